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
    const headers = { "Content-Type": "application/json", ...(opts.headers || {}) };
    // A change from this page carries the session's token: a page of
    // another site can send the cookie, never the token.
    if (opts.method && opts.method !== "GET" && me && me.csrf) headers["X-Sekisho-CSRF"] = me.csrf;
    const init = { credentials: "same-origin", ...opts, headers };
    const res = await fetch(path, init);
    if (res.status === 401) { location.href = "/login"; throw new Error("logged out"); }
    const body = await res.json().catch(() => ({}));
    // opts.answer: statuses whose body is the answer (health's 503 says why).
    if (!res.ok && !(opts.answer || []).includes(res.status)) {
      const err = new Error(body.detail || body.error || res.statusText);
      err.code = body.error;
      err.problems = body.problems;
      err.status = res.status;
      err.body = body;
      throw err;
    }
    return body;
  }

  const rank = { guard: 1, manager: 2, admin: 3 };
  // Pages a role may open, in the order the header lists them.
  const pages = [
    { href: "/", key: "nav.board", role: "guard" },
    { href: "/desk", key: "nav.desk", role: "guard" },
    { href: "/muster", key: "nav.muster", role: "guard" },
    { href: "/report", key: "nav.report", role: "manager" },
    { href: "/log", key: "nav.log", role: "manager" },
    { href: "/reports/customer", key: "nav.customer", role: "manager" },
    { href: "/assets", key: "nav.assets", role: "manager" },
    { href: "/people", key: "nav.people", role: "admin" },
  ];
  let me = null;

  // start learns the site's clock and who is signed in, draws the header
  // (pages by role, who, logout), and refuses a page the role may not see.
  // need is the least role the page is for.
  async function start(need = "guard") {
    const [health, who] = await Promise.all([api("/api/health", { answer: [503] }), api("/api/me")]);
    me = who;
    setClock(health);
    header();
    I18N.onChange(header);
    storageBanner(health);
    watchIdle();
    if ((rank[me.role] || 0) < rank[need]) {
      const main = document.querySelector("main");
      const p = document.createElement("p");
      p.className = "msg bad forbidden";
      p.textContent = `${I18N.t("page.forbidden")} ${I18N.t("page.need." + need)}`;
      main.replaceChildren(p);
      throw Object.assign(new Error("forbidden"), { code: "forbidden" });
    }
    // A screen in another zone is told whose clock it reads.
    if (zone !== viewerZone() && !document.getElementById("site-zone")) {
      const label = document.createElement("small");
      label.id = "site-zone";
      label.className = "zone";
      const words = document.createElement("span");
      words.dataset.i18n = "site.clock";
      words.textContent = I18N.t("site.clock");
      label.append(words, " " + zone);
      const h1 = document.querySelector("header h1");
      if (h1) h1.append(label);
    }
    return health;
  }

  // storageBanner tells every page when the log cannot be written.
  function storageBanner(health) {
    if (health.status !== "degraded") return;
    const p = document.createElement("p");
    p.id = "storage-banner";
    p.className = "msg bad";
    p.textContent = `${I18N.t("alarm.storage")}: ${health.reason}`;
    document.querySelector("main")?.prepend(p);
  }

  // watchIdle signs a browser out after the site's idle time without a
  // touch of mouse or keyboard (a board left open keeps asking the
  // controller, so the controller alone cannot tell); a minute before, it
  // warns and offers to stay.
  function watchIdle() {
    const limit = (me.idle_timeout || 0) * 1000;
    if (!limit) return;
    let last = Date.now();
    for (const ev of ["mousedown", "keydown", "touchstart", "wheel"]) {
      addEventListener(ev, () => { last = Date.now(); hideWarning(); }, { passive: true });
    }
    const warning = document.createElement("p");
    warning.id = "idle-warning";
    warning.className = "msg bad";
    warning.hidden = true;
    const stay = document.createElement("button");
    stay.type = "button";
    stay.addEventListener("click", () => { last = Date.now(); hideWarning(); api("/api/me").catch(() => {}); });
    const text = document.createElement("span");
    warning.append(text, " ", stay);
    document.querySelector("main")?.prepend(warning);
    function hideWarning() { warning.hidden = true; }
    setInterval(async () => {
      const left = limit - (Date.now() - last);
      if (left <= 0) {
        await api("/logout", { method: "POST" }).catch(() => {});
        location.href = "/login?idle=1";
      } else if (left <= 60000) {
        text.textContent = I18N.t("idle.warning").replace("{s}", Math.ceil(left / 1000));
        stay.textContent = I18N.t("idle.stay");
        warning.hidden = false;
      }
    }, 1000);
  }

  // header fills the page's nav: the pages this role opens, who is signed
  // in, the language, and logout.
  function header() {
    const nav = document.querySelector("header .who");
    if (!nav || !me) return;
    const keep = [...nav.querySelectorAll("[data-keep]")];
    const links = pages.filter(pg => rank[me.role] >= rank[pg.role] && pg.href !== location.pathname).map(pg => {
      const a = document.createElement("a");
      a.href = pg.href; a.textContent = I18N.t(pg.key); a.dataset.nav = pg.href;
      return a;
    });
    const who = document.createElement("span");
    who.id = "me";
    who.title = I18N.t("who.signed_in");
    who.textContent = `${me.name} (${I18N.t("role." + me.role)})`;
    const lang = document.createElement("button");
    lang.type = "button"; lang.className = "link"; lang.id = "lang-toggle";
    lang.textContent = I18N.lang === "ja" ? "English" : "日本語";
    const out = document.createElement("button");
    out.type = "button"; out.className = "link"; out.id = "logout"; out.textContent = I18N.t("board.logout");
    out.addEventListener("click", async () => {
      await api("/logout", { method: "POST" }).catch(() => {});
      location.href = "/login";
    });
    nav.replaceChildren(...keep, ...links, who, lang, out);
  }

  // explain says what an API refusal means in the page's language: its
  // stable word and each problem's; in English, the server's sentence too.
  function explain(err) {
    if (!err.code) return err.message;
    let text = I18N.t("err." + err.code, err.code);
    if (err.problems && err.problems.length) {
      text += (I18N.lang === "ja" ? "：" : ": ") + err.problems.map(p => I18N.t("problem." + p, p)).join(I18N.lang === "ja" ? "、" : "; ");
    } else if (I18N.lang !== "ja" && err.message && err.message !== err.code) {
      text += " — " + err.message;
    }
    return text;
  }

  // actor names who did something: a user's name, or an API token.
  const actor = a => (!a ? "" : a.startsWith("token-") ? `${I18N.t("actor.token")} ${a.slice(6)}` : a === "system" ? I18N.t("actor.system") : a);

  // empty is a table's "nothing yet" row.
  function empty(tbody, key) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = document.createElement("td");
    td.colSpan = tbody.closest("table").querySelectorAll("thead th").length || 1;
    td.textContent = I18N.t(key);
    tr.append(td);
    tbody.replaceChildren(tr);
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
  // midnight is the instant a site day (YYYY-MM-DD) begins, as ISO: the
  // wall clock of the site's zone, found by asking Intl for it.
  const midnight = d => {
    const target = Date.parse(d + "T00:00:00Z");
    let t = target;
    for (let i = 0; i < 2; i++) {
      const wall = fmt("sv-SE", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(new Date(t));
      t -= Date.parse(wall.replace(" ", "T") + "Z") - target;
    }
    return new Date(t).toISOString();
  };
  // longDate is a date as the page's language writes it.
  const longDate = v => fmt(I18N.lang === "ja" ? "ja-JP" : "en-GB", { year: "numeric", month: "long", day: "numeric", weekday: "short" }).format(toDate(v));

  return { api, start, explain, actor, empty, setClock, day, time, stamp, now, today, addDays, longDate, midnight,
    get zone() { return zone; }, get me() { return me; } };
})();
