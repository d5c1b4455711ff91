// The guard board: door states and the live entry log, fed by the
// Server-Sent Events stream so a guard never reloads the page.
(() => {
  const $ = sel => document.querySelector(sel);
  const rows = $("#events tbody");
  const seen = new Map(); // seq -> event, newest kept on screen
  const stills = new Map(); // event id -> the camera events taken for it
  const MAX_ROWS = 300;
  // A door's own comings and goings (unlock, open, close, lock) fold under
  // the entry that caused them: a guard reads who went where, and opens the
  // mechanics when they matter.
  const MECHANICS = new Set(["door.unlocked", "door.locked", "door.opened", "door.closed"]);
  // The board is what happens at doors and alarms: accounts, audits and
  // changes to people are the manager's log, not the guard's.
  const NOT_ON_BOARD = ["auth.", "audit.", "token.", "user.", "person.", "credential.", "people.", "config."];
  const CAUSE_WINDOW_MS = 5 * 60 * 1000;
  const children = new Map(); // parent seq -> its mechanics events
  const parentOf = new Map(); // mechanics seq -> parent seq
  const expanded = new Set();
  let doors = [], zones = [];

  const api = Site.api;
  // Today's events show the site's time; older ones its date too.
  const clock = iso => (Site.day(iso) === Site.today() ? Site.time(iso) : Site.stamp(iso));
  const doorName = id => (doors.find(d => d.id === id) || {}).name || id || "";
  const zoneName = id => (zones.find(z => z.id === id) || {}).name || id || "";

  function who(ev) {
    if (ev.person) return ev.person.company ? `${ev.person.name} — ${ev.person.company}` : ev.person.name;
    const c = ev.credential;
    if (!c) return Site.actor(ev.actor);
    if (c.format === "raw") return `raw:${c.hex}`;
    return `${c.facility}:${c.number}` + (c.hex ? ` (${c.format} ${c.hex})` : "");
  }

  function rowFor(ev) {
    const tr = document.createElement("tr");
    tr.dataset.seq = ev.seq;
    tr.dataset.type = ev.type;
    tr.className = "ev " + ev.type.replace(".", "-") + (ev.alarm ? " alarm" : "");
    let what = I18N.t("type." + ev.type, ev.type) + (ev.reason ? ` · ${I18N.t("reason." + ev.reason, ev.reason)}` : "");
    const d = ev.detail || {};
    if ((ev.type === "alarm.raised" || ev.type === "alarm.escalated") && d.kind) what += ` · ${I18N.t("alarm." + d.kind, d.kind)}`;
    if (ev.type === "camera.detection") what += ` · ${I18N.t("label." + d.label, d.label)}`;
    if (ev.type === "visitor.checked_in" && d.host_name) what += ` · ${I18N.t("board.host")}: ${d.host_name}`;
    // In or out, and to where: "(→)" said nothing to a guard.
    const dir = ev.side ? ` (${I18N.t(ev.side === "outside" ? "dir.in" : "dir.out")}${ev.zone_to ? " " + zoneName(ev.zone_to) : ""})` : "";
    let where = ev.door ? doorName(ev.door) + dir : "";
    if (!where && ev.camera) where = [zoneName(ev.zone_to), ev.camera.id].filter(Boolean).join(" · ");
    for (const text of [clock(ev.time), where, who(ev), what]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.cells[3].className = "what";
    const kids = children.get(ev.seq) || [];
    if (kids.length) {
      const more = document.createElement("button");
      more.type = "button"; more.className = "more";
      more.textContent = `${expanded.has(ev.seq) ? "▾" : "▸"} ${I18N.t("board.details")} ${kids.length}`;
      more.addEventListener("click", () => {
        if (expanded.has(ev.seq)) expanded.delete(ev.seq); else expanded.add(ev.seq);
        redrawGroup(ev.seq);
      });
      tr.cells[1].append(more);
    }
    const cam = document.createElement("td");
    cam.className = "cam";
    cam.append(...Stills.links(stills.get(ev.id) || [], { time: Site.stamp(ev.time), door: where, who: who(ev) }));
    if (ev.detail && ev.detail.frigate_snapshot) cam.append(Stills.frigateLink(ev.detail.frigate_snapshot));
    tr.appendChild(cam);
    return tr;
  }

  // A camera's still, and the names Frigate recognised, belong beside the
  // event they were taken for, not on a line of their own.
  function attachStill(ev) {
    const id = ev.detail.for;
    const list = stills.get(id) || [];
    if (list.some(s => s.seq === ev.seq)) return;
    list.push(ev);
    stills.set(id, list);
    const target = seen.get(Number(ev.detail.for_seq));
    if (target) redrawGroup(parentOf.get(target.seq) ?? target.seq);
  }

  // group is an entry's row and, when opened, its mechanics under it.
  function group(ev) {
    const out = [rowFor(ev)];
    if (expanded.has(ev.seq)) {
      for (const k of children.get(ev.seq) || []) {
        const tr = rowFor(k);
        tr.classList.add("mech");
        tr.dataset.parent = ev.seq;
        out.push(tr);
      }
    }
    return out;
  }

  function redrawGroup(seq) {
    const ev = seen.get(seq);
    const tr = rows.querySelector(`tr[data-seq="${seq}"]:not([data-parent])`);
    if (!ev || !tr) return;
    rows.querySelectorAll(`tr[data-parent="${seq}"]`).forEach(r => r.remove());
    const g = group(ev);
    tr.replaceWith(...g);
  }

  // cause is the entry a door's mechanics event follows from, if any.
  function cause(ev) {
    if (!MECHANICS.has(ev.type) || !ev.door) return null;
    let best = null;
    for (const p of seen.values()) {
      if (p.door !== ev.door || p.seq >= ev.seq || MECHANICS.has(p.type) || parentOf.has(p.seq)) continue;
      if (Date.parse(ev.time) - Date.parse(p.time) > CAUSE_WINDOW_MS) continue;
      if (!best || p.seq > best.seq) best = p;
    }
    return best;
  }

  function add(ev) {
    if (Stills.BESIDE.has(ev.type) && ev.detail && ev.detail.for) {
      attachStill(ev);
      return;
    }
    if (seen.has(ev.seq) || NOT_ON_BOARD.some(p => ev.type.startsWith(p))) return;
    seen.set(ev.seq, ev);
    rows.querySelector("tr.empty")?.remove();
    const parent = cause(ev);
    if (parent) {
      const kids = children.get(parent.seq) || [];
      kids.push(ev);
      children.set(parent.seq, kids);
      parentOf.set(ev.seq, parent.seq);
      redrawGroup(parent.seq);
      return;
    }
    // Newest on top; a late-arriving older event still lands in its place.
    let before = rows.firstElementChild;
    while (before && (before.dataset.parent || Number(before.dataset.seq) > ev.seq)) before = before.nextElementSibling;
    for (const tr of group(ev)) rows.insertBefore(tr, before);
    while (rows.children.length > MAX_ROWS) {
      const last = rows.lastElementChild;
      seen.delete(Number(last.dataset.seq));
      last.remove();
    }
  }

  function rerender() {
    const evs = [...seen.values()].filter(e => !parentOf.has(e.seq)).sort((a, b) => b.seq - a.seq);
    rows.replaceChildren(...evs.flatMap(group));
    if (!evs.length) Site.empty(rows, "empty.events");
    renderDoors();
  }

  function renderDoors() {
    const box = $("#doors");
    box.replaceChildren(...doors.map(d => {
      const card = document.createElement("div");
      card.className = "door" + (d.locked ? " locked" : " unlocked") + (d.open ? " open" : "") + (d.alarm ? " alarm" : "");
      card.dataset.door = d.id;
      const name = document.createElement("strong");
      name.textContent = d.name || d.id;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = [I18N.t(d.locked ? "door.locked" : "door.unlocked"), I18N.t(d.open ? "door.open" : "door.closed")].join(" · ");
      const route = document.createElement("small");
      route.textContent = `${zoneName(d.from)} → ${zoneName(d.to)}` + (d.inside_only ? ` · ${I18N.t("door.inside_only")}` : "");
      card.append(name, state, route);
      if (d.alarm) {
        const a = document.createElement("em");
        a.textContent = I18N.t("alarm." + d.alarm, d.alarm);
        card.append(a);
      }
      return card;
    }));
  }

  let doorTimer = null;
  function refreshDoors() {
    clearTimeout(doorTimer);
    doorTimer = setTimeout(async () => { doors = await api("/api/doors"); renderDoors(); }, 100);
  }

  async function refreshAlarms() {
    const list = await api("/api/alarms");
    const box = $("#alarms");
    if (!list.length) {
      const p = document.createElement("p");
      p.className = "quiet"; p.dataset.i18n = "board.no_alarms"; p.textContent = I18N.t("board.no_alarms");
      box.replaceChildren(p);
      return;
    }
    box.replaceChildren(...list.map(a => {
      const div = document.createElement("div");
      div.className = "alarm-item " + a.severity + (a.cleared_at ? " cleared" : "") + (a.escalated_at && !a.acked_at ? " escalated" : "");
      div.dataset.alarm = a.id;
      const what = document.createElement("strong");
      const place = doorName(a.door) || a.reader || "";
      what.textContent = I18N.t("alarm." + a.kind, a.kind) + (place ? " — " + place : "");
      const when = document.createElement("small");
      // The server's sentence is English: shown in English, kept as a
      // tooltip in Japanese, where the kind and place say it.
      when.textContent = clock(a.raised_at) + (a.detail && I18N.lang !== "ja" ? " · " + a.detail : "");
      if (a.detail) div.title = a.detail;
      div.append(what, when);
      if (a.escalated_at) {
        const up = document.createElement("small");
        up.className = "escalated-note";
        up.textContent = "▲ " + I18N.t("board.escalated") + " " + clock(a.escalated_at);
        div.append(up);
      }
      if (!a.acked_at) {
        const b = document.createElement("button");
        b.type = "button"; b.className = "ack"; b.textContent = I18N.t("board.ack");
        b.addEventListener("click", async () => { await api(`/api/alarms/${a.id}/ack`, { method: "POST" }); refreshAlarms(); });
        div.append(b);
      }
      return div;
    }));
  }

  let lockdownOn = false;
  async function refreshZones() {
    const z = await api("/api/zones");
    lockdownOn = z.lockdown;
    $("#lockdown").textContent = I18N.t(lockdownOn ? "board.lift" : "board.lockdown");
    document.body.classList.toggle("lockdown", lockdownOn);
    zones = z.zones;
    const shown = z.zones.filter(x => x.count > 0 || x.restricted);
    $("#zones").replaceChildren(...shown.map(x => {
      const li = document.createElement("li");
      li.dataset.zone = x.id;
      li.textContent = `${x.name || x.id}: ${x.count}`;
      if (x.restricted) li.className = "restricted";
      return li;
    }));
    if (!shown.some(x => x.count > 0)) {
      const li = document.createElement("li");
      li.className = "quiet"; li.textContent = I18N.t("empty.zones");
      $("#zones").append(li);
    }
  }

  let zoneTimer = null;
  function later(f) { clearTimeout(zoneTimer); zoneTimer = setTimeout(f, 150); }

  function connect() {
    const es = new EventSource("/api/stream?backlog=100");
    es.addEventListener("open", () => { $("#live").className = "live on"; $("#live").dataset.i18n = "board.live"; $("#live").textContent = I18N.t("board.live"); });
    es.addEventListener("error", () => { $("#live").className = "live off"; $("#live").dataset.i18n = "board.offline"; $("#live").textContent = I18N.t("board.offline"); });
    es.addEventListener("event", msg => {
      const ev = JSON.parse(msg.data);
      add(ev);
      if (ev.type.startsWith("door.")) refreshDoors();
      if (ev.type.startsWith("alarm.") || ev.alarm) refreshAlarms();
      if (ev.type.startsWith("access.") || ev.type.startsWith("lockdown.") || ev.type.startsWith("visitor.")) later(refreshZones);
    });
  }

  function setupSim() {
    $("#sim").hidden = false;
    const readers = $("#swipe-reader"), simDoor = $("#sim-door");
    for (const d of doors) {
      for (const [side, id] of Object.entries(d.readers || {})) {
        readers.add(new Option(`${id} — ${d.name || d.id} (${I18N.t("side." + side)})`, id));
      }
      simDoor.add(new Option(d.name || d.id, d.id));
    }
    const status = text => { $("#sim-status").textContent = text; };
    const run = async (path, body) => {
      try { await api(path, { method: "POST", body: JSON.stringify(body || {}) }); status(I18N.t("sim.sent")); }
      catch (e) { status(Site.explain(e)); }
    };
    $("#swipe-form").addEventListener("submit", e => {
      e.preventDefault();
      run(`/api/sim/readers/${encodeURIComponent(readers.value)}/wiegand`,
        { format: "H10301", facility: Number($("#swipe-facility").value), number: Number($("#swipe-number").value) });
    });
    $("#sim-open").addEventListener("click", () => run(`/api/sim/doors/${simDoor.value}/contact`, { open: true }));
    $("#sim-close").addEventListener("click", () => run(`/api/sim/doors/${simDoor.value}/contact`, { open: false }));
    $("#sim-rex").addEventListener("click", () => run(`/api/sim/doors/${simDoor.value}/rex`));
    $("#sim-tamper").addEventListener("click", () => run(`/api/sim/doors/${simDoor.value}/tamper`, { tampered: true }));
    $("#sim-untamper").addEventListener("click", () => run(`/api/sim/doors/${simDoor.value}/tamper`, { tampered: false }));
    $("#keys-button").addEventListener("click", () =>
      run(`/api/sim/readers/${encodeURIComponent(readers.value)}/keys`, { keys: $("#keys").value }));
    $("#sim-shift").addEventListener("click", async () => { await run("/api/sim/shift"); status(I18N.t("sim.playing")); });
  }

  async function start() {
    I18N.apply();
    I18N.onChange(() => { rerender(); refreshAlarms(); refreshZones(); });
    const health = await Site.start();
    $("#site-name").textContent = health.name || health.site;
    await refreshZones(); // zone names for the door tiles
    doors = await api("/api/doors");
    renderDoors();
    Site.empty(rows, "empty.events");
    await refreshAlarms();
    $("#lockdown").addEventListener("click", async () => {
      if (!lockdownOn && !confirm(I18N.t("board.confirm_lockdown"))) return;
      await api("/api/lockdown", { method: "POST", body: JSON.stringify({ active: !lockdownOn, reason: "guard board" }) });
      refreshZones();
    });
    if (health.sim) setupSim();
    connect();
  }
  start().catch(e => console.error(e));
})();
