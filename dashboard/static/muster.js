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
    // A visitor checked in and not yet through a door was last seen at the desk.
    const desk = p.where === "desk";
    const zone = desk ? I18N.t("muster.at_desk") : zoneName(p.zone);
    const door = desk ? I18N.t("muster.desk") : doorName(p.door);
    tr.dataset.where = p.where || "door";
    for (const text of [zone, p.name, p.company, I18N.t("kind." + p.kind, p.kind), door, Site.time(p.at), "☐"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
  if (!m.people.length) Site.empty($("#muster tbody"), "empty.muster");
})();
