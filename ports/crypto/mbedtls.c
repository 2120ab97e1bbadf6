/* placeholder: implemented in a following commit */
#include "fota/crypto.h"
