// The admin's people and cards: add, edit, switch off and on, delete, and
// the people file in and out. Every change is in the log under the admin's
// name; a deleted person stays named there.
(() => {
  const $ = sel => document.querySelector(sel);
  const el = (tag, props = {}, ...kids) => {
    const n = Object.assign(document.createElement(tag), props);
    n.append(...kids);
    return n;
  };
  const kinds = ["employee", "contractor", "visitor"];
  let levels = [], formats = [], people = [];
  let editing = null; // the person open in the dialog

  const say = (where, text, ok) => { where.className = "msg " + (ok ? "ok" : "bad"); where.textContent = text; };
  const printed = c => (c.format === "raw" ? c.raw_hex : `${c.facility}:${c.number}`);
  const levelName = id => (levels.find(l => l.id === id) || {}).name || id;
  // A card's last day, as the site counts days: valid_until is the instant
  // it ends, the site's midnight after that day.
  const lastDay = until => (until ? Site.day(Date.parse(until) - 1000) : "");

  function fillChoices() {
    document.querySelectorAll("select.kinds").forEach(sel =>
      sel.replaceChildren(...kinds.map(k => el("option", { value: k, textContent: I18N.t("kind." + k) }))));
    document.querySelectorAll("select.formats").forEach(sel =>
      sel.replaceChildren(...formats.map(f => el("option", { value: f, textContent: f }))));
    document.querySelectorAll("div.levels").forEach(div =>
      div.replaceChildren(...levels.map(l => el("label", { className: "check" },
        el("input", { type: "checkbox", value: l.id }), " " + l.name))));
  }
  const checkedLevels = div => [...div.querySelectorAll("input:checked")].map(i => i.value);

  async function load() {
    people = await Site.api("/api/people");
    draw();
  }

  function draw() {
    const q = $("#p-filter").value.trim().toLowerCase();
    const shown = people.filter(p => !q || [p.name, p.company, p.employee_number, ...p.cards.map(printed)].some(v => (v || "").toLowerCase().includes(q)));
    $("#people tbody").replaceChildren(...shown.map(p => {
      const tr = el("tr");
      tr.dataset.person = p.id;
      if (p.disabled) tr.className = "off";
      const name = el("td", {}, p.name);
      if (p.disabled) name.append(el("span", { className: "tag off", textContent: I18N.t("people.off") }));
      const cards = el("td", { className: "cards" }, ...p.cards.map(c => {
        const span = el("span", { className: "card" + (c.enabled ? "" : " off"), textContent: printed(c) });
        span.dataset.card = c.id;
        if (!c.enabled) span.append(el("span", { className: "tag off", textContent: I18N.t("people.off") }));
        return span;
      }));
      const act = el("td", { className: "act" },
        el("button", { type: "button", className: "edit", textContent: I18N.t("people.edit_button"), onclick: () => openEditor(p) }),
        el("button", { type: "button", className: "toggle", textContent: I18N.t(p.disabled ? "people.enable" : "people.disable"),
          onclick: () => change(`/api/people/${encodeURIComponent(p.id)}/${p.disabled ? "enable" : "disable"}`, "POST", null, p.disabled ? "people.enabled_msg" : "people.disabled_msg") }),
        twoStep("delete", "people.delete", "people.delete_sure", () => change(`/api/people/${encodeURIComponent(p.id)}`, "DELETE", null, "people.deleted_msg")));
      tr.append(name, el("td", {}, p.company || ""), el("td", {}, I18N.t("kind." + p.kind)),
        el("td", {}, p.levels.map(levelName).join("、")), cards, act);
      return tr;
    }));
    if (!shown.length) Site.empty($("#people tbody"), "people.none");
  }

  // twoStep is a button that asks once more before it acts: no browser
  // pop-up, and one stray click deletes nothing.
  function twoStep(cls, key, sureKey, act) {
    const b = el("button", { type: "button", className: cls, textContent: I18N.t(key) });
    b.addEventListener("click", () => {
      if (b.dataset.sure) return act();
      b.dataset.sure = "1";
      b.classList.add("sure");
      b.textContent = I18N.t(sureKey);
      setTimeout(() => { delete b.dataset.sure; b.classList.remove("sure"); b.textContent = I18N.t(key); }, 5000);
    });
    return b;
  }

  async function change(path, method, body, okKey) {
    try {
      await Site.api(path, { method, body: body ? JSON.stringify(body) : undefined });
      say($("#p-msg"), I18N.t(okKey), true);
    } catch (e) {
      say($("#p-msg"), Site.explain(e));
    }
    await load().catch(e => say($("#p-msg"), Site.explain(e)));
  }

  function openEditor(p) {
    editing = p;
    $("#e-msg").textContent = "";
    $("#e-name").value = p.name;
    $("#e-company").value = p.company || "";
    $("#e-employee").value = p.employee_number || "";
    $("#e-kind").value = p.kind;
    $("#e-levels").querySelectorAll("input").forEach(i => { i.checked = p.levels.includes(i.value); });
    drawCards(p);
    if (!$("#p-edit").open) $("#p-edit").showModal();
  }

  function drawCards(p) {
    $("#e-cards tbody").replaceChildren(...p.cards.map(c => {
      const tr = el("tr");
      tr.dataset.card = c.id;
      tr.append(el("td", {}, `${printed(c)} (${c.format})`),
        el("td", {}, el("input", { type: "checkbox", className: "c-enabled", checked: c.enabled })),
        el("td", {}, el("input", { type: "text", inputMode: "numeric", pattern: "\\d{4}-\\d{2}-\\d{2}", placeholder: "YYYY-MM-DD", size: 10, className: "c-until", value: lastDay(c.valid_until) })),
        el("td", {}, el("input", { type: "password", className: "c-pin", inputMode: "numeric", size: 6, autocomplete: "new-password",
          placeholder: I18N.t(c.has_pin ? "people.pin_keep" : "people.pin_none") })),
        el("td", {}, twoStep("c-delete", "people.delete", "people.delete_sure", () => removeCard(c))));
      return tr;
    }));
    if (!p.cards.length) Site.empty($("#e-cards tbody"), "people.no_cards");
  }

  async function reopen(id) {
    await load();
    const p = people.find(x => x.id === id);
    if (p) openEditor(p); else $("#p-edit").close();
  }

  async function removeCard(c) {
    try {
      await Site.api(`/api/people/${encodeURIComponent(editing.id)}/credentials/${c.id}`, { method: "DELETE" });
      await reopen(editing.id);
      say($("#e-msg"), I18N.t("people.card_deleted"), true);
    } catch (e) { say($("#e-msg"), Site.explain(e)); }
  }

  // save sends what changed: the person's fields, then each card's.
  async function save() {
    const p = editing;
    const edit = {};
    const name = $("#e-name").value.trim(), company = $("#e-company").value.trim(), kind = $("#e-kind").value;
    const lv = checkedLevels($("#e-levels"));
    if (name !== p.name) edit.name = name;
    if (company !== (p.company || "")) edit.company = company;
    const employee = $("#e-employee").value.trim();
    if (employee !== (p.employee_number || "")) edit.employee_number = employee;
    if (kind !== p.kind) edit.kind = kind;
    if (lv.join(",") !== p.levels.join(",")) edit.levels = lv;
    try {
      if (Object.keys(edit).length) {
        await Site.api(`/api/people/${encodeURIComponent(p.id)}`, { method: "PATCH", body: JSON.stringify(edit) });
      }
      for (const tr of $("#e-cards tbody").querySelectorAll("tr[data-card]")) {
        const c = p.cards.find(x => String(x.id) === tr.dataset.card);
        const ch = {};
        const enabled = tr.querySelector(".c-enabled").checked, until = tr.querySelector(".c-until").value, pin = tr.querySelector(".c-pin").value;
        if (enabled !== c.enabled) ch.enabled = enabled;
        if (until !== lastDay(c.valid_until)) ch.valid_until = until;
        if (pin) ch.pin = pin;
        if (Object.keys(ch).length) {
          await Site.api(`/api/people/${encodeURIComponent(p.id)}/credentials/${c.id}`, { method: "PATCH", body: JSON.stringify(ch) });
        }
      }
      $("#p-edit").close();
      say($("#p-msg"), I18N.t("people.saved"), true);
    } catch (e) {
      say($("#e-msg"), Site.explain(e));
    }
    await load().catch(e => say($("#p-msg"), Site.explain(e)));
  }

  const cardFrom = (format, facility, number) => ({ format: format.value, facility: Number(facility.value || 0), number: Number(number.value) });

  async function addCard() {
    try {
      await Site.api(`/api/people/${encodeURIComponent(editing.id)}/credentials`, { method: "POST",
        body: JSON.stringify(cardFrom($("#c-format"), $("#c-facility"), $("#c-number"))) });
      $("#c-number").value = "";
      await reopen(editing.id);
      say($("#e-msg"), I18N.t("people.card_added"), true);
    } catch (e) { say($("#e-msg"), Site.explain(e)); }
  }

  async function addPerson(e) {
    e.preventDefault();
    try {
      const p = await Site.api("/api/people", { method: "POST", body: JSON.stringify({
        name: $("#n-name").value.trim(), company: $("#n-company").value.trim(), employee_number: $("#n-employee").value.trim(), kind: $("#n-kind").value, levels: checkedLevels($("#n-levels")) }) });
      if ($("#n-number").value) {
        await Site.api(`/api/people/${encodeURIComponent(p.id)}/credentials`, { method: "POST",
          body: JSON.stringify(cardFrom($("#n-format"), $("#n-facility"), $("#n-number"))) });
      }
      $("#p-new").reset();
      say($("#p-msg"), I18N.t("people.added"), true);
    } catch (err) { say($("#p-msg"), Site.explain(err)); }
    await load().catch(err => say($("#p-msg"), Site.explain(err)));
  }

  // importFile sends the people file as it is; a refusal lists the first
  // bad rows by line, and nothing was written.
  async function importFile(e) {
    e.preventDefault();
    const file = $("#i-file").files[0];
    if (!file) return;
    try {
      const res = await Site.api("/api/people/import", { method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.text() });
      say($("#p-msg"), `${I18N.t("people.imported")}: ${res.people} / ${res.cards}`, true);
    } catch (err) {
      const rows = ((err.body || {}).rows || []).slice(0, 10).map(r => `${r.line}: ${r.error}`).join("\n");
      say($("#p-msg"), Site.explain(err) + (rows ? "\n" + rows : ""));
    }
    await load().catch(err => say($("#p-msg"), Site.explain(err)));
  }

  (async () => {
    I18N.apply();
    try { await Site.start("admin"); } catch { return; }
    try {
      ({ levels, formats } = await Site.api("/api/levels"));
      fillChoices();
      await load();
    } catch (e) { say($("#p-msg"), Site.explain(e)); }
    I18N.onChange(() => { fillChoices(); draw(); });
    $("#p-filter").addEventListener("input", draw);
    $("#p-new").addEventListener("submit", addPerson);
    $("#p-import").addEventListener("submit", importFile);
    $("#e-save").addEventListener("click", save);
    $("#e-cancel").addEventListener("click", () => $("#p-edit").close());
    $("#c-add").addEventListener("click", addCard);
  })();
})();
