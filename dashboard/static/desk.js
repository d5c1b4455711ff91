// The visitor desk: register, check in with a day badge, confirm covers,
// check out. A refusal is shown in the desk's language from its stable word.
(() => {
  const $ = sel => document.querySelector(sel);
  // "Today" is the site's day: a visit is registered for it, and checked in on it.
  const today = () => Site.today();
  const api = Site.api;
  let zones = [];
  const zoneName = id => (zones.find(z => z.id === id) || {}).name || id;

  function say(text, bad) {
    const m = $("#desk-msg");
    if (!m) return; // the page was refused
    m.textContent = text;
    m.className = "msg " + (bad ? "bad" : "ok");
  }
  const fail = e => say(Site.explain(e), true);

  async function load() {
    await Site.start("guard");
    const [hosts, z] = await Promise.all([api("/api/hosts"), api("/api/zones")]);
    zones = z.zones;
    $("#v-host").replaceChildren(...hosts.map(h => new Option(h.name, h.id)));
    $("#v-zones").replaceChildren(...zones.filter(x => x.id !== "outside").map(x => {
      const l = document.createElement("label");
      l.className = "check";
      const c = document.createElement("input");
      c.type = "checkbox"; c.value = x.id; c.name = "zone";
      l.append(c, " " + (x.name || x.id));
      // Words, not emoji: a guard's screen may lack the emoji font.
      if (x.restricted) l.append(tag("zone.restricted", "restricted"));
      if (x.no_phones) l.append(tag("zone.no_phones", "no-phones"));
      return l;
    }));
    $("#v-date").value = today();
    refresh();
  }

  async function refresh() {
    $("#today").textContent = today();
    const [visits, badges, coming] = await Promise.all([api("/api/visits?date=" + today()),
      api("/api/visits/badges").catch(() => ({ free: [] })), api("/api/visits?upcoming=7")]);
    $("#visits tbody").replaceChildren(...visits.map(v => row(v, badges.free)));
    if (!visits.length) Site.empty($("#visits tbody"), "empty.visits");
    // Who is coming on the next days: on their day they are in the list above,
    // a click from their badge.
    $("#upcoming tbody").replaceChildren(...coming.map(v => {
      const tr = document.createElement("tr");
      tr.dataset.visit = v.id;
      for (const text of [v.day, v.name, v.company, v.host_name, (v.zones || []).map(zoneName).join(", ")]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      return tr;
    }));
    if (!coming.length) Site.empty($("#upcoming tbody"), "empty.upcoming");
    // Badges not yet back at the desk, today's or left over from earlier days.
    $("#badges-out-list").textContent = (badges.out || []).join(", ") || "—";
  }

  function tag(key, cls) {
    const s = document.createElement("span");
    s.className = "tag " + cls;
    s.dataset.i18n = key;
    s.textContent = I18N.t(key);
    return s;
  }

  function row(v, free) {
    const tr = document.createElement("tr");
    tr.dataset.visit = v.id;
    tr.dataset.status = v.status;
    for (const text of [v.name, v.company, v.host_name, I18N.t("status." + v.status, v.status), v.card ?? ""]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    const td = document.createElement("td");
    td.className = "act";
    if (v.status === "registered") {
      const sel = document.createElement("select");
      sel.className = "badge";
      sel.append(...free.slice(0, 50).map(n => new Option(String(n), String(n))));
      const b = button("desk.checkin", async () => {
        await api(`/api/visits/${v.id}/checkin`, { method: "POST", body: JSON.stringify({ card: Number(sel.value) }) });
        say(`${v.name}: ${I18N.t("desk.checked_in")} ${sel.value}`);
      });
      b.className = "checkin";
      td.append(sel, b);
    }
    if (v.status === "checked_in") {
      for (const z of v.zones) {
        const zone = zones.find(x => x.id === z);
        if (!zone || !zone.restricted) continue;
        td.append(button("desk.covers", async () => {
          const r = await api(`/api/visits/${v.id}/covers/confirm`, { method: "POST", body: JSON.stringify({ zone: z }) });
          say(`${zone.name || z}: ${I18N.t("desk.covered")} ${r.covered.join(", ") || "—"}`);
        }, zone.name || z));
      }
      const out = button("desk.checkout", async () => {
        await api(`/api/visits/${v.id}/checkout`, { method: "POST" });
        say(`${v.name}: ${I18N.t("desk.checked_out")}`);
      });
      out.className = "checkout";
      td.append(out);
    }
    tr.appendChild(td);
    return tr;
  }

  function button(key, action, suffix) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = I18N.t(key) + (suffix ? " " + suffix : "");
    b.addEventListener("click", async () => { try { await action(); refresh(); } catch (e) { fail(e); } });
    return b;
  }

  $("#register").addEventListener("submit", async e => {
    e.preventDefault();
    const body = {
      name: $("#v-name").value, company: $("#v-company").value, host: $("#v-host").value,
      purpose: $("#v-purpose").value, date: $("#v-date").value, nda_ref: $("#v-nda").value,
      zones: [...document.querySelectorAll("#v-zones input:checked")].map(c => c.value),
      briefed_by: $("#v-briefed").checked ? "desk" : "", phone_locker: $("#v-locker").value,
    };
    try {
      const v = await api("/api/visits", { method: "POST", body: JSON.stringify(body) });
      // The badge also opens the zones on the way: the clerk sees which.
      const path = (v.path_added || []).map(zoneName).join(", ");
      say(`${v.name}: ${I18N.t("desk.registered")}` + (path ? ` · ${I18N.t("desk.path_added")}: ${path}` : ""));
      $("#register").reset();
      $("#v-date").value = today();
      refresh();
    } catch (err) { fail(err); }
  });

  I18N.apply();
  I18N.onChange(refresh);
  load().catch(fail);
})();
