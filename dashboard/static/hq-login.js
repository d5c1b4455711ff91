// Head office's login page: says when the last try failed or must wait.
const params = new URLSearchParams(location.search);
if (params.has("failed")) document.getElementById("failed").hidden = false;
if (params.has("locked")) document.getElementById("locked").hidden = false;
if (params.has("idle")) document.getElementById("idle").hidden = false;
I18N.apply();
