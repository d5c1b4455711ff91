// The login page: says when the last try failed. (No inline script: the
// dashboard's content policy runs only its own files.)
const params = new URLSearchParams(location.search);
if (params.has("failed")) document.getElementById("failed").hidden = false;
if (params.has("idle")) document.getElementById("idle").hidden = false;
if (params.has("locked")) {
  // Too many wrong passwords: this name or this machine waits.
  const p = document.getElementById("locked");
  p.hidden = false;
  p.dataset.seconds = params.get("locked");
}
I18N.apply();
const locked = document.getElementById("locked");
if (!locked.hidden) locked.textContent = I18N.t("login.locked").replace("{s}", locked.dataset.seconds);
