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
    if ($("#l-channel").value) q.set("channel", $("#l-channel").value);
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
      const stillQ = new URLSearchParams(q), namesQ = new URLSearchParams(q);
      stillQ.delete("channel"); namesQ.delete("channel"); // a still or a name is no card
      stillQ.set("type", "camera.snapshot");
      namesQ.set("type", "camera.recognized");
      q.set("limit", "1000"); stillQ.set("limit", "1000"); namesQ.set("limit", "1000");
      const alarmQ = new URLSearchParams(q), outQ = new URLSearchParams(q);
      alarmQ.delete("zone"); alarmQ.delete("channel"); alarmQ.set("type", "alarm.raised");
      outQ.delete("zone"); outQ.delete("channel"); outQ.set("type", "visitor.checked_out");
      const [evs, stills, names, alarms, checkouts] = await Promise.all([api("/api/events?" + q), api("/api/events?" + stillQ), api("/api/events?" + namesQ),
        api("/api/events?" + alarmQ), api("/api/events?" + outQ)]);
      const byEvent = new Map();
      for (const s of [...stills, ...names]) {
        const list = byEvent.get(s.detail.for) || [];
        list.push(s);
        byEvent.set(s.detail.for, list);
      }
      $("#l-what").textContent = [zoneName($("#l-zone").value), $("#l-from").value, $("#l-to").value].filter(Boolean).join(" · ");
      $("#log tbody").replaceChildren(...evs.map(ev => {
        const tr = document.createElement("tr");
        tr.dataset.seq = ev.seq;
        tr.dataset.type = ev.type;
        // A refusal is red here as on the board.
        tr.className = "ev " + ev.type.replace(".", "-");
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
      timeline(evs, alarms, checkouts, byEvent);
    } catch (e) {
      $("#l-msg").className = "msg bad";
      $("#l-msg").textContent = e.message;
    }
  }

  // timeline draws who was in the zone when, on the last day chosen: the
  // manager's day at a glance.
  function timeline(evs, alarms, checkouts, byEvent) {
    const zone = $("#l-zone").value;
    const day = $("#l-to").value || Site.today();
    const from = Site.midnight(day);
    const end = Site.midnight(Site.addDays(day, 1));
    const to = Date.parse(end) > Site.now().getTime() ? Site.now().toISOString() : end;
    const inDay = ev => Date.parse(ev.time) >= Date.parse(from) && Date.parse(ev.time) < Date.parse(end);
    $("#tl-day").textContent = Site.longDate(from);
    const granted = evs.filter(ev => ev.type === "access.granted" && ev.person);
    const shape = ev => ({ seq: ev.seq, id: ev.id, time: ev.time, door: ev.door, person: ev.person.id, name: ev.person.name,
      kind: ev.person.kind, company: ev.person.company, visit: ev.visit });
    const entries = granted.filter(ev => ev.zone_to === zone && inDay(ev)).map(shape);
    const exits = granted.filter(ev => ev.zone_from === zone).map(shape);
    const left = new Map(checkouts.filter(ev => ev.visit).map(ev => [ev.visit, ev.time]));
    const into = new Map(doors.map(d => [d.id, d.to]));
    const marks = alarms.filter(ev => inDay(ev) && (ev.zone_to || ev.zone_from || into.get(ev.door)) === zone)
      .map(ev => ({ seq: ev.seq, time: ev.time, label: I18N.t("alarm." + (ev.detail || {}).kind, (ev.detail || {}).kind) }));
    $("#tl-legend").replaceChildren(Timeline.legend());
    $("#tl-detail").hidden = true;
    Timeline.draw($("#tl"), { from, to, rows: Timeline.rows(entries, exits, left, to), marks, onBar: (row, bar) => {
      const box = $("#tl-detail");
      const line = document.createElement("p");
      line.textContent = `${row.name}: ${doorName(bar.door)} ${Site.stamp(bar.time)} → ${bar.open ? I18N.t("timeline.no_exit") : Site.stamp(bar.end)}`;
      const stills = document.createElement("div");
      stills.className = "cam";
      stills.append(...Stills.links(byEvent.get(bar.id) || [], { time: Site.stamp(bar.time), door: doorName(bar.door), who: row.name }));
      box.replaceChildren(line, stills);
      box.dataset.seq = bar.seq;
      box.hidden = false;
    } });
  }

  // The check runs on the controller in the background; the page asks how
  // far it got, so ten million rows never hold a request open.
  async function watchVerify() {
    const st = await api("/api/verify");
    const bar = $("#v-progress"), msg = $("#v-msg");
    if (st.running) {
      bar.hidden = false;
      bar.value = st.total ? st.done / st.total : 0;
      msg.className = "msg";
      msg.textContent = `${I18N.t("verify.running")} ${st.done.toLocaleString()} / ${st.total.toLocaleString()}`;
      $("#v-start").disabled = true;
      setTimeout(() => watchVerify().catch(e => { msg.textContent = e.message; }), 500);
      return;
    }
    $("#v-start").disabled = false;
    bar.hidden = true;
    if (st.error) { msg.className = "msg bad"; msg.textContent = st.error; return; }
    const r = st.result;
    if (!r) return;
    msg.className = r.ok ? "msg ok" : "msg bad";
    let text = `${I18N.t(r.ok ? "verify.ok" : "verify.bad")}: ${r.chain.count.toLocaleString()} ${I18N.t("verify.events")}, ${r.stills_checked} ${I18N.t("verify.stills")} (${Site.stamp(st.finished)})`;
    if (!r.chain.ok) text += ` — ${I18N.t("verify.first_bad")} seq ${r.chain.bad_seq}: ${r.chain.problem}`;
    for (const p of r.stills_problems || []) text += ` — seq ${p.seq} ${p.file}: ${p.problem}`;
    msg.textContent = text;
  }

  async function start() {
    I18N.apply();
    await Site.start("manager");
    // The whole log's check reads every zone: for a site-wide manager.
    if (Site.me.zones && Site.me.zones.length && Site.me.role !== "admin") $("#verify").hidden = true;
    $("#v-start").addEventListener("click", async () => {
      try { await Site.api("/api/verify", { method: "POST", body: "{}" }); await watchVerify(); }
      catch (e) { $("#v-msg").className = "msg bad"; $("#v-msg").textContent = Site.explain(e); }
    });
    watchVerify().catch(() => {});
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
