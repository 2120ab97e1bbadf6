// The login page: says so when the last token was refused (/dashboard/login?failed).
'use strict';
if (new URLSearchParams(location.search).has('failed'))
  document.getElementById('failed').hidden = false;
