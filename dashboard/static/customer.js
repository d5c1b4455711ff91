// The customer's report: for one company and a period, every entry to a
// zone while one of its assets was there, who, the cover checks, the
// alarms, the timeline, and what the log's proofs cover. The bundle link
// fetches it all with a proof for every event. Making it is logged.
(() => {
  const $ = sel => document.querySelector(sel);
  let zones = [], doors = [];
  const zoneName = id => (zones.find(z => z.id === id) || {}).name || id || "";
  const doorName = id => (doors.find(d => d.id === id) || {}).name || id || "";
  const cell = (tr, text, cls) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  };
  const fill = (sel, items, row, emptyKey) => {
    const tbody = $(sel + " tbody");
    tbody.replaceChildren(...items.map(it => { const tr = document.createElement("tr"); row(tr, it); return tr; }));
    if (!items.length) Site.empty(tbody, emptyKey);
  };
  const stamp = t => (t && !t.startsWith("0001-") ? Site.stamp(t) : "—");

  async function show() {
    const msg = $("#c-msg");
    msg.textContent = "";
    const q = new URLSearchParams({ company: $("#c-company").value, from: $("#c-from").value, to: $("#c-to").value });
    $("#c-csv").href = "/api/reports/customer.csv?" + q;
    $("#c-html").href = `/api/reports/customer.html?lang=${I18N.lang}&` + q;
    $("#c-bundle").href = "/api/reports/customer/bundle?" + q;
    let r;
    try { r = await Site.api("/api/reports/customer?" + q); } catch (e) {
      msg.className = "msg bad"; msg.textContent = Site.explain(e); return;
    }
    $("#c-what").textContent = `${r.company} · ${r.from} – ${r.to}`;
    fill("#c-assets", r.assets, (tr, a) => {
      cell(tr, a.description ? `${a.asset} (${a.description})` : a.asset); cell(tr, zoneName(a.zone));
      cell(tr, stamp(a.from)); cell(tr, a.ongoing ? I18N.t("customer.still_there") : stamp(a.to)); cell(tr, Site.actor(a.moved_by));
    }, "customer.no_assets");
    const people = r.people.flatMap(g => g.people.map(p => ({ ...p, group: g })));
    fill("#c-people", people, (tr, p) => {
      cell(tr, I18N.t("kind." + p.group.kind, p.group.kind)); cell(tr, p.group.company || ""); cell(tr, p.name); cell(tr, String(p.entries));
    }, "empty.log");
    fill("#c-visits", r.other_visits, (tr, v) => {
      tr.className = v.missing ? "flagged" : "";
      cell(tr, v.visitor); cell(tr, v.company); cell(tr, zoneName(v.zone)); cell(tr, stamp(v.entered));
      cell(tr, v.missing ? I18N.t("customer.missing") : `${Site.actor(v.confirmed_by)} ${stamp(v.confirmed_at)}`, v.missing ? "bad" : "");
    }, "customer.no_visits");
    fill("#c-alarms", r.alarms, (tr, a) => {
      cell(tr, stamp(a.time)); cell(tr, I18N.t("alarm." + a.kind, a.kind) + (a.camera ? ` (${I18N.t("customer.camera")})` : ""));
      cell(tr, zoneName(a.zone)); cell(tr, doorName(a.door));
    }, "customer.no_alarms");
    fill("#c-entries", r.entries, (tr, e) => {
      tr.dataset.seq = e.seq;
      cell(tr, stamp(e.time)); cell(tr, zoneName(e.zone)); cell(tr, doorName(e.door));
      cell(tr, e.person.company && e.person.kind !== "employee" ? `${e.person.name} — ${e.person.company}` : e.person.name);
      cell(tr, e.exit ? stamp(e.exit) : "—"); cell(tr, e.stills.map(s => s.sha256).join(" "), "hash");
    }, "empty.log");
    const said = r.completeness[I18N.lang] || r.completeness.en;
    for (const [sel, list] of [["#c-proves", said.proves], ["#c-cannot", said.cannot]]) {
      $(sel).replaceChildren(...list.map(s => { const li = document.createElement("li"); li.textContent = s; return li; }));
    }
    // The timeline: each entry to its exit, or to the end of the period.
    const end = Date.parse(r.end) > Site.now().getTime() ? Site.now().toISOString() : r.end;
    const shape = e => ({ seq: e.seq, time: e.time, door: e.door, person: e.person.id, name: e.person.name, kind: e.person.kind, company: e.person.company, stills: e.stills });
    const entries = r.entries.map(shape);
    const exits = r.entries.filter(e => e.exit_seq).map(e => ({ seq: e.exit_seq, time: e.exit, person: e.person.id }));
    $("#tl-legend").replaceChildren(Timeline.legend());
    $("#tl-detail").hidden = true;
    Timeline.draw($("#tl"), {
      from: r.start, to: end, rows: Timeline.rows(entries, exits, new Map(), end),
      marks: r.alarms.map(a => ({ seq: a.seq, time: a.time, label: I18N.t("alarm." + a.kind, a.kind) })),
      onBar: (row, bar) => {
        const box = $("#tl-detail");
        const p = document.createElement("p");
        p.textContent = `${row.name}: ${doorName(bar.door)} ${Site.stamp(bar.time)} → ${bar.open ? I18N.t("timeline.no_exit") : Site.stamp(bar.end)}`;
        const hashes = document.createElement("p");
        hashes.className = "hash";
        hashes.textContent = (bar.stills || []).map(s => `${s.camera}: ${s.sha256}`).join("  ");
        box.replaceChildren(p, hashes);
        box.dataset.seq = bar.seq;
        box.hidden = false;
      },
    });
  }

  async function start() {
    I18N.apply();
    await Site.start("manager");
    const [z, d, assets] = await Promise.all([Site.api("/api/zones"), Site.api("/api/doors"), Site.api("/api/assets")]);
    zones = z.zones; doors = d;
    const owners = [...new Set(assets.map(a => a.owner))].sort();
    $("#c-company").replaceChildren(...owners.map(o => { const opt = document.createElement("option"); opt.value = opt.textContent = o; return opt; }));
    const asked = new URLSearchParams(location.search);
    if (asked.get("company")) $("#c-company").value = asked.get("company");
    $("#c-to").value = asked.get("to") || Site.today();
    $("#c-from").value = asked.get("from") || Site.addDays(Site.today(), -6);
    $("#c-filter").addEventListener("submit", e => { e.preventDefault(); show(); });
    $("#c-print").addEventListener("click", () => window.print());
    I18N.onChange(show);
    if (owners.length) show(); else Site.empty($("#c-entries tbody"), "customer.no_assets");
  }
  start().catch(() => {});
})();
