// The muster list: everyone on site now, with the zone, the last door and
// when, ready to print for an evacuation roll call.
(async () => {
  const $ = sel => document.querySelector(sel);
  I18N.apply();
  $("#print").addEventListener("click", () => window.print());
  const [health, m] = await Promise.all([Site.start(), Site.api("/api/muster")]);
  $("#site-name").textContent = health.name || health.site;
  $("#count").textContent = m.count;
  $("#at").textContent = `${Site.longDate(m.at)} ${Site.time(m.at)}`;
  $("#muster tbody").replaceChildren(...m.people.map(p => {
    const tr = document.createElement("tr");
    for (const text of [p.zone, p.name, p.company, p.kind, p.door, Site.time(p.at), "☐"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
})();
