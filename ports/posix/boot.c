/* placeholder: implemented in a following commit */
typedef int fota_posix_placeholder_boot;
