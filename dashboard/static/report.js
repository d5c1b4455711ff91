// The daily visitor log, as the casebook's paper form: printable, and CSV.
(() => {
  const $ = sel => document.querySelector(sel);
  let zones = [], doors = [];
  const zoneName = id => (zones.find(z => z.id === id) || {}).name || id;
  const doorName = id => (doors.find(d => d.id === id) || {}).name || id;
  async function show(day) {
    let body;
    try { body = await Site.api("/api/reports/visitors?date=" + day); }
    catch (e) { $("#r-site").textContent = Site.explain(e); return; }
    $("#r-day").textContent = body.date;
    $("#r-site").textContent = body.name || body.site;
    $("#r-csv").href = "/api/reports/visitors.csv?date=" + body.date;
    $("#report tbody").replaceChildren(...body.rows.map(r => {
      const tr = document.createElement("tr");
      tr.dataset.visit = r.id;
      const stays = (r.restricted || []).map(s => {
        const div = document.createElement("div");
        div.className = "stay";
        div.textContent = `${zoneName(s.zone)} ${s.in}–${s.out || "…"}${s.escort ? " (" + s.escort + ")" : ""} `;
        div.append(...Stills.links((s.stills || []).map(st => ({ type: "camera.snapshot", camera: { id: st.camera, snapshot_sha256: st.sha256 },
          detail: { file: st.file, frigate_url: st.frigate_url } })), { time: `${body.date} ${s.in}`, door: zoneName(s.zone), who: `${r.name} — ${r.company}` }));
        return div;
      });
      // Every door that said no, and why, in the visitor's row.
      const refusals = (r.refusals || []).map(f => `${f.at} ${doorName(f.door)} · ${I18N.t("reason." + f.reason, f.reason)}`).join("\n");
      for (const text of [r.name, r.company, r.host_name, r.purpose, r.nda_ref || "—", r.briefed_by || "—", r.badge,
        r.time_in, null, (r.covers || []).join("\n"), r.time_out, refusals]) {
        const td = document.createElement("td");
        if (text === null) td.append(...stays); else td.textContent = text || "";
        if (text === refusals && refusals) td.className = "refused";
        tr.appendChild(td);
      }
      return tr;
    }));
    if (!body.rows.length) Site.empty($("#report tbody"), "empty.report");
  }
  // Search across days: each visit found opens its day's log.
  $("#r-search").addEventListener("submit", async e => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of ["company", "person", "host", "from", "to"]) {
      const v = $("#s-" + k).value.trim();
      if (v) q.set(k, v);
    }
    let body;
    try { body = await Site.api("/api/visits/search?" + q); }
    catch (err) { $("#r-site").textContent = Site.explain(err); return; }
    $("#found").hidden = false;
    $("#found tbody").replaceChildren(...body.map(v => {
      const tr = document.createElement("tr");
      tr.dataset.visit = v.id;
      const a = document.createElement("a");
      a.href = "/report?date=" + v.day;
      a.textContent = v.day;
      a.addEventListener("click", ev => { ev.preventDefault(); $("#r-date").value = v.day; show(v.day); });
      const first = document.createElement("td");
      first.appendChild(a);
      tr.appendChild(first);
      for (const text of [v.name, v.company, v.host_name, v.purpose, I18N.t("status." + v.status)]) {
        const td = document.createElement("td");
        td.textContent = text || "";
        tr.appendChild(td);
      }
      return tr;
    }));
    if (!body.length) Site.empty($("#found tbody"), "empty.found");
  });
  $("#r-date").addEventListener("change", e => show(e.target.value));
  $("#r-print").addEventListener("click", () => window.print());
  I18N.apply();
  Site.start("manager").then(async () => {
    [zones, doors] = await Promise.all([Site.api("/api/zones").then(z => z.zones), Site.api("/api/doors")]);
    const day = new URLSearchParams(location.search).get("date") || Site.today();
    $("#r-date").value = day;
    show(day);
  }).catch(() => {});
})();
