/* placeholder: implemented in a following commit */
typedef int fota_placeholder_http;
