// The muster list: everyone on site now, with the zone, the last door and
// when, ready to print for an evacuation roll call.
(async () => {
  const $ = sel => document.querySelector(sel);
  I18N.apply();
  $("#print").addEventListener("click", () => window.print());
  const health = await Site.start("guard");
  const [m, zones, doors] = await Promise.all([Site.api("/api/muster"), Site.api("/api/zones"), Site.api("/api/doors")]);
  const zoneName = id => (zones.zones.find(z => z.id === id) || {}).name || id;
  const doorName = id => (doors.find(d => d.id === id) || {}).name || id;
  $("#site-name").textContent = health.name || health.site;
  $("#count").textContent = m.count;
  $("#at").textContent = `${Site.longDate(m.at)} ${Site.time(m.at)}`;
  $("#muster tbody").replaceChildren(...m.people.map(p => {
    const tr = document.createElement("tr");
    for (const text of [zoneName(p.zone), p.name, p.company, I18N.t("kind." + p.kind, p.kind), doorName(p.door), Site.time(p.at), "☐"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
  if (!m.people.length) Site.empty($("#muster tbody"), "empty.muster");
})();
