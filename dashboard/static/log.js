// The manager's entry log of a zone: who went in and out of the restricted
// rooms, and when, with the door camera's still beside every line.
// Reading it and exporting it are themselves logged.
(() => {
  const $ = sel => document.querySelector(sel);
  const api = async path => {
    try { return await Site.api(path); } catch (e) { throw new Error(Site.explain(e)); }
  };
  // Dates are the site's days: the controller reads a bare date as the
  // site's midnight, so this screen's zone changes nothing.
  const query = () => {
    const q = new URLSearchParams({ type: "access." });
    if ($("#l-zone").value) q.set("zone", $("#l-zone").value);
    if ($("#l-from").value) q.set("since", $("#l-from").value);
    if ($("#l-to").value) q.set("until", Site.addDays($("#l-to").value, 1));
    return q;
  };
  let doors = [], zoneList = [];
  const doorName = id => (doors.find(d => d.id === id) || {}).name || id || "";
  const zoneName = id => (zoneList.find(z => z.id === id) || {}).name || id || "";

  async function show() {
    $("#l-msg").textContent = "";
    const q = query();
    $("#l-csv").href = "/api/events.csv?" + q;
    try {
      const stillQ = new URLSearchParams(q);
      stillQ.set("type", "camera.snapshot");
      q.set("limit", "1000"); stillQ.set("limit", "1000");
      const [evs, stills] = await Promise.all([api("/api/events?" + q), api("/api/events?" + stillQ)]);
      const byEvent = new Map();
      for (const s of stills) {
        const list = byEvent.get(s.detail.for) || [];
        list.push(s);
        byEvent.set(s.detail.for, list);
      }
      $("#l-what").textContent = [$("#l-zone").value, $("#l-from").value, $("#l-to").value].filter(Boolean).join(" · ");
      $("#log tbody").replaceChildren(...evs.map(ev => {
        const tr = document.createElement("tr");
        tr.dataset.seq = ev.seq;
        tr.dataset.type = ev.type;
        const who = ev.person ? (ev.person.company ? `${ev.person.name} — ${ev.person.company}` : ev.person.name)
          : ev.credential ? `${ev.credential.facility}:${ev.credential.number}` : Site.actor(ev.actor);
        const dir = ev.side ? ` (${zoneName(ev.zone_from)} → ${zoneName(ev.zone_to)})` : "";
        const what = I18N.t("type." + ev.type, ev.type) + (ev.reason ? ` · ${I18N.t("reason." + ev.reason, ev.reason)}` : "");
        for (const text of [Site.stamp(ev.time), doorName(ev.door) + dir, who, what]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        }
        const cam = document.createElement("td");
        cam.className = "cam";
        cam.append(...Stills.links(byEvent.get(ev.id) || [], { time: Site.stamp(ev.time), door: doorName(ev.door), who }));
        tr.appendChild(cam);
        return tr;
      }));
      if (!evs.length) Site.empty($("#log tbody"), "empty.log");
    } catch (e) {
      $("#l-msg").className = "msg bad";
      $("#l-msg").textContent = e.message;
    }
  }

  async function start() {
    I18N.apply();
    await Site.start("manager");
    const me = Site.me;
    const [zones, doorList] = await Promise.all([api("/api/zones"), api("/api/doors")]);
    doors = doorList;
    zoneList = zones.zones;
    // A manager sees the zones they answer for; restricted ones first.
    const mine = zones.zones.filter(z => !me.zones || !me.zones.length || me.zones.includes(z.id))
      .sort((a, b) => Number(b.restricted) - Number(a.restricted));
    $("#l-zone").replaceChildren(...mine.map(z => {
      const o = document.createElement("option");
      o.value = z.id; o.textContent = z.name ? `${z.name} (${z.id})` : z.id;
      return o;
    }));
    $("#l-to").value = Site.today();
    $("#l-from").value = Site.addDays(Site.today(), -6);
    $("#l-filter").addEventListener("submit", e => { e.preventDefault(); show(); });
    $("#l-print").addEventListener("click", () => window.print());
    I18N.onChange(show);
    show();
  }
  start().catch(() => {});
})();
