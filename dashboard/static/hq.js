// Head office's page: every plant at a glance, alarms across plants,
// head counts, a search across plants, and revocations for all.
(() => {
  const $ = s => document.querySelector(s);
  let me = {};
  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
  async function api(path, opts = {}) {
    opts.headers = Object.assign({ "Content-Type": "application/json", "X-Sekisho-CSRF": me.csrf || "" }, opts.headers || {});
    const res = await fetch(path, opts);
    if (res.status === 401) { location.href = "/hq/login"; throw new Error("logged out"); }
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || body.error);
    return body;
  }
  const when = t => t ? new Date(t).toLocaleString(I18N.lang === "ja" ? "ja-JP" : "en-GB") : "—";

  async function sites() {
    const tbody = $("#sites tbody");
    tbody.replaceChildren();
    for (const s of await api("/hq/api/sites")) {
      const tr = el("tr");
      const counts = Object.entries(s.zones || {}).map(([z, n]) => `${z}: ${n}`).join(", ");
      for (const text of [s.name, I18N.t(s.link_up ? "hq.up" : "hq.down"), when(s.last_event_at) + ` (#${s.head_seq})`,
        `#${s.verified_seq} ${when(s.verified_at)}`, `#${s.cosigned_size}`, String(s.open_alarms), counts]) {
        tr.append(el("td", text));
      }
      if (!s.link_up) tr.className = "denied";
      tbody.append(tr);
    }
  }

  async function alarms() {
    const ul = $("#alarms");
    ul.replaceChildren();
    const list = await api("/hq/api/alarms");
    if (!list.length) ul.append(el("li", I18N.t("hq.no_alarms")));
    for (const a of list) ul.append(el("li", `${when(a.raised_at)} ${a.site}: ${I18N.t("hq.alarm." + a.kind, a.kind)} — ${a.detail}`));
  }

  function query() {
    const q = new URLSearchParams();
    for (const [k, id] of [["person", "#q-person"], ["card", "#q-card"], ["company", "#q-company"], ["since", "#q-since"], ["until", "#q-until"]]) {
      const v = $(id).value.trim();
      if (v) q.set(k, v);
    }
    return q;
  }

  async function search(e) {
    e.preventDefault();
    const q = query();
    try {
      const found = await api("/hq/api/search?" + q);
      const tbody = $("#found tbody");
      tbody.replaceChildren();
      for (const f of found) {
        const tr = el("tr");
        for (const text of [when(f.time), f.site, I18N.t("type." + f.type, f.type), f.door, f.person, f.company, f.card]) tr.append(el("td", text));
        if (f.type === "access.denied") tr.className = "denied";
        tbody.append(tr);
      }
      $("#found").hidden = !found.length;
      $("#q-msg").textContent = found.length ? `${found.length} ${I18N.t("hq.found")}` : I18N.t("hq.none");
      $("#q-csv").href = "/hq/api/search.csv?" + q;
      $("#q-csv").hidden = !found.length;
    } catch (err) { $("#q-msg").textContent = err.message; }
  }

  async function revocations() {
    const ul = $("#revocations");
    ul.replaceChildren();
    for (const r of await api("/hq/api/revocations")) {
      const applied = Object.entries(r.applied).map(([s, n]) => `${s} (${n})`).join(", ");
      const li = el("li", `${when(r.issued_at)} ${r.employee_number} — ${r.by}${r.reason ? " · " + r.reason : ""} · ` +
        `${I18N.t("hq.applied")}: ${applied || "—"}` + (r.pending.length ? ` · ${I18N.t("hq.pending")}: ${r.pending.join(", ")}` : ""));
      if (r.pending.length) li.className = "denied";
      ul.append(li);
    }
  }

  async function revoke(e) {
    e.preventDefault();
    try {
      await api("/hq/api/revocations", { method: "POST", body: JSON.stringify({ employee_number: $("#r-number").value.trim(), reason: $("#r-reason").value.trim() }) });
      $("#r-msg").textContent = I18N.t("hq.revoked");
      e.target.reset();
      await revocations();
    } catch (err) { $("#r-msg").textContent = err.message; }
  }

  async function refresh() {
    await Promise.all([sites(), alarms(), revocations()]).catch(err => { $("#r-msg").textContent = err.message; });
  }

  (async () => {
    me = await api("/hq/api/me");
    $("#office").textContent = me.office || "";
    $("#who").textContent = `${me.name} (${me.role})`;
    $("#revoke").hidden = me.role !== "hq-admin";
    $("#search").addEventListener("submit", search);
    $("#revoke").addEventListener("submit", revoke);
    $("#logout").addEventListener("click", async () => { await api("/hq/logout", { method: "POST" }); location.href = "/hq/login"; });
    I18N.apply();
    I18N.onChange(refresh);
    await refresh();
    // The page's own refreshes keep the session alive; a screen nobody has
    // touched for 15 minutes signs itself out, as the site's board does.
    let touched = Date.now();
    for (const e of ["click", "keydown"]) addEventListener(e, () => { touched = Date.now(); });
    setInterval(async () => {
      if (Date.now() - touched > 15 * 60 * 1000) {
        await api("/hq/logout", { method: "POST" }).catch(() => {});
        location.href = "/hq/login?idle=1";
        return;
      }
      await refresh();
    }, 5000);
  })();
})();
