// The login page: says when the last try failed. (No inline script: the
// dashboard's content policy runs only its own files.)
if (new URLSearchParams(location.search).has("failed")) document.getElementById("failed").hidden = false;
I18N.apply();
