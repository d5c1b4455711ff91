// The muster list: everyone on site now, with the zone, the last door and
// when, ready to print for an evacuation roll call.
(async () => {
  const $ = sel => document.querySelector(sel);
  const get = async path => {
    const res = await fetch(path, { credentials: "same-origin" });
    if (res.status === 401) { location.href = "/login"; throw new Error("logged out"); }
    return res.json();
  };
  I18N.apply();
  $("#print").addEventListener("click", () => window.print());
  const [health, m] = await Promise.all([get("/api/health"), get("/api/muster")]);
  $("#site-name").textContent = health.name || health.site;
  $("#count").textContent = m.count;
  $("#at").textContent = new Date(m.at).toLocaleString();
  $("#muster tbody").replaceChildren(...m.people.map(p => {
    const tr = document.createElement("tr");
    for (const text of [p.zone, p.name, p.company, p.kind, p.door, new Date(p.at).toLocaleTimeString(), "☐"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
})();
