// What every page shares: the one way to call the API, and the site's clock.
// Times and dates are the site's (its time zone comes from the controller),
// never this screen's: a guard's laptop set to another zone, or a browser
// in UTC, must show the same day and hour as the visitor log and the CSV.
const Site = (() => {
  let zone = "UTC";
  let skew = 0; // the controller's clock minus this screen's, in ms

  // api calls the controller; a refusal becomes an Error whose code is the
  // API's stable word, so a page can say it in its own language.
  async function api(path, opts = {}) {
    const init = { credentials: "same-origin", ...opts, headers: { "Content-Type": "application/json", ...(opts.headers || {}) } };
    const res = await fetch(path, init);
    if (res.status === 401) { location.href = "/login"; throw new Error("logged out"); }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(body.detail || body.error || res.statusText);
      err.code = body.error;
      err.status = res.status;
      throw err;
    }
    return body;
  }

  // start learns the site's zone and clock; pages call it before they draw.
  async function start() {
    const health = await api("/api/health");
    setClock(health);
    // A screen in another zone is told whose clock it reads.
    if (zone !== viewerZone() && !document.getElementById("site-zone")) {
      const label = document.createElement("small");
      label.id = "site-zone";
      label.className = "zone";
      label.textContent = `🕒 ${zone}`;
      const h1 = document.querySelector("header h1");
      if (h1) h1.append(label);
    }
    return health;
  }

  function setClock(health) {
    if (health.time_zone) zone = health.time_zone;
    if (health.now) skew = Date.parse(health.now) - Date.now();
  }

  const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
  const fmt = (locale, opts) => new Intl.DateTimeFormat(locale, { timeZone: zone, ...opts });
  const toDate = v => (v instanceof Date ? v : new Date(v));

  // day is the site's date of a time, YYYY-MM-DD.
  const day = v => fmt("sv-SE", { year: "numeric", month: "2-digit", day: "2-digit" }).format(toDate(v));
  // time is the site's wall clock, 24-hour HH:MM:SS.
  const time = v => fmt("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(toDate(v));
  const stamp = v => `${day(v)} ${time(v)}`;
  const now = () => new Date(Date.now() + skew);
  const today = () => day(now());
  // addDays counts whole days on a YYYY-MM-DD, in no zone at all.
  const addDays = (d, n) => {
    const t = new Date(d + "T00:00:00Z");
    t.setUTCDate(t.getUTCDate() + n);
    return t.toISOString().slice(0, 10);
  };
  // longDate is a date as the page's language writes it.
  const longDate = v => fmt(I18N.lang === "ja" ? "ja-JP" : "en-GB", { year: "numeric", month: "long", day: "numeric", weekday: "short" }).format(toDate(v));

  return { api, start, setClock, day, time, stamp, now, today, addDays, longDate, get zone() { return zone; } };
})();
