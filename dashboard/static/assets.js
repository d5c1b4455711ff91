// Customers' assets — dies, moulds, drawings, samples — where each is now
// and every move, with who and when. An admin moves or registers them; each
// is an event in the log, and the cover check follows at once.
(() => {
  const $ = sel => document.querySelector(sel);
  let zones = [];
  const zoneName = id => (zones.find(z => z.id === id) || {}).name || id || "";
  const say = (text, bad) => { $("#a-msg").className = bad ? "msg bad" : "msg ok"; $("#a-msg").textContent = text; };
  const zoneSelect = (value) => {
    const sel = document.createElement("select");
    sel.replaceChildren(...zones.map(z => { const o = document.createElement("option"); o.value = z.id; o.textContent = z.name || z.id; return o; }));
    if (value) sel.value = value;
    return sel;
  };

  async function show() {
    const list = await Site.api("/api/assets");
    const admin = Site.me.role === "admin";
    $("#assets tbody").replaceChildren(...list.map(a => {
      const tr = document.createElement("tr");
      tr.dataset.asset = a.id;
      const cell = text => { const td = document.createElement("td"); td.textContent = text; tr.append(td); return td; };
      cell(a.description ? `${a.id} — ${a.description}` : a.id);
      cell(a.owner);
      cell(zoneName(a.zone)).className = "zone-now";
      cell(a.history.map(h => `${Site.stamp(h.time)} ${h.from ? zoneName(h.from) + " → " : ""}${zoneName(h.to)} (${Site.actor(h.by)})`).join("\n"));
      if (admin) {
        const td = document.createElement("td");
        const sel = zoneSelect(a.zone);
        const go = document.createElement("button");
        go.type = "button"; go.className = "move"; go.textContent = I18N.t("assets.move");
        go.addEventListener("click", async () => {
          try {
            await Site.api(`/api/assets/${encodeURIComponent(a.id)}/move`, { method: "POST", body: JSON.stringify({ zone: sel.value }) });
            say(`${a.id}: ${zoneName(a.zone)} → ${zoneName(sel.value)}`);
            show();
          } catch (e) { say(Site.explain(e), true); }
        });
        td.append(sel, " ", go);
        tr.append(td);
      }
      return tr;
    }));
    if (!list.length) Site.empty($("#assets tbody"), "customer.no_assets");
  }

  async function start() {
    I18N.apply();
    await Site.start("manager");
    zones = (await Site.api("/api/zones")).zones;
    const admin = Site.me.role === "admin";
    for (const el of document.querySelectorAll(".admin-only")) el.hidden = !admin;
    $("#a-zone").replaceChildren(...zoneSelect().children);
    $("#a-new").addEventListener("submit", async e => {
      e.preventDefault();
      try {
        await Site.api("/api/assets", { method: "POST", body: JSON.stringify({ id: $("#a-id").value, owner: $("#a-owner").value, description: $("#a-desc").value, zone: $("#a-zone").value }) });
        say(`${$("#a-id").value}: ${I18N.t("assets.added")}`);
        $("#a-new").reset();
        show();
      } catch (err) { say(Site.explain(err), true); }
    });
    I18N.onChange(show);
    show().catch(e => say(Site.explain(e), true));
  }
  start().catch(() => {});
})();
