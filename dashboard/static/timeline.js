// The day at a glance: one row per person who entered a zone, a bar from
// each entry to its exit (the exit swipe, or the end of the visit), drawn
// as SVG by this page's own code — no chart library. Visitors, contractors
// and employees are coloured apart; alarms are marks above the rows; a bar
// clicked tells the page which entry it is, for its stills.
const Timeline = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const el = (name, attrs = {}, text) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  // rows pairs entries with exits: each entry ends at the person's next
  // exit from the zone after it, else at the end of the visit, else it is
  // open to the end of the span (drawn dashed: no exit on record).
  function rows(entries, exits, checkouts, end) {
    const byPerson = new Map();
    for (const x of exits) {
      const list = byPerson.get(x.person) || [];
      list.push(x);
      byPerson.set(x.person, list);
    }
    for (const list of byPerson.values()) list.sort((a, b) => a.seq - b.seq);
    const out = new Map();
    for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
      const exit = (byPerson.get(e.person) || []).find(x => x.seq > e.seq);
      const left = e.visit && checkouts.get(e.visit);
      const bar = { ...e, end: exit ? exit.time : left || end, open: !exit && !left, exitSeq: exit ? exit.seq : 0 };
      const row = out.get(e.person) || { person: e.person, name: e.name, kind: e.kind, company: e.company, bars: [] };
      row.bars.push(bar);
      out.set(e.person, row);
    }
    return [...out.values()].sort((a, b) => Date.parse(a.bars[0].time) - Date.parse(b.bars[0].time));
  }

  // draw puts the timeline of rows over [from, to) in box; marks are
  // alarms ({time, label}); onBar(row, bar) is called when a bar is clicked.
  function draw(box, { from, to, rows, marks = [], onBar }) {
    const W = 1000, left = 190, right = 8, rowH = 15, top = 36;
    const t0 = Date.parse(from), t1 = Date.parse(to), span = Math.max(1, t1 - t0);
    const x = t => left + (Math.min(Math.max(Date.parse(t), t0), t1) - t0) / span * (W - left - right);
    const H = top + Math.max(rows.length, 1) * rowH + 8;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", class: "timeline", role: "img" });
    svg.append(el("title", {}, I18N.t("timeline.title")));
    // Hours for a day or two, days for longer.
    const hour = 3600e3, day = 24 * hour;
    const step = span <= 2 * day ? (span <= day ? hour : 2 * hour) : Math.ceil(span / day / 14) * day;
    for (let t = t0; t <= t1; t += step) {
      const at = x(new Date(t).toISOString());
      svg.append(el("line", { x1: at, x2: at, y1: top - 6, y2: H, class: "tick" }));
      const label = step < day ? Site.time(t).slice(0, 5) : Site.day(t).slice(5);
      svg.append(el("text", { x: at + 2, y: top - 8, class: "tick-label" }, label));
    }
    for (const m of marks) {
      const at = x(m.time);
      const g = el("g", { class: "alarm-mark", "data-seq": m.seq });
      g.append(el("path", { d: `M${at - 5},${top - 28} L${at + 5},${top - 28} L${at},${top - 19} Z` }), el("title", {}, `${Site.stamp(m.time)} ${m.label}`));
      svg.append(g);
    }
    if (!rows.length) svg.append(el("text", { x: left, y: top + 11, class: "tick-label" }, I18N.t("timeline.none")));
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const name = r.company && r.kind !== "employee" ? `${r.name} — ${r.company}` : r.name;
      svg.append(el("text", { x: 4, y: y + 11, class: `who kind-${r.kind}` }, name.length > 28 ? name.slice(0, 27) + "…" : name));
      for (const b of r.bars) {
        const x0 = x(b.time), x1 = Math.max(x(b.end), x0 + 2);
        const rect = el("rect", {
          x: x0, y: y + 2, width: x1 - x0, height: rowH - 4, rx: 2,
          class: `bar kind-${r.kind}${b.open ? " open" : ""}`, tabindex: 0,
          "data-seq": b.seq, "data-person": r.person, "data-start": b.time, "data-end": b.end,
        });
        rect.append(el("title", {}, `${name}: ${Site.stamp(b.time)} → ${b.open ? I18N.t("timeline.no_exit") : Site.stamp(b.end)}`));
        const pick = () => onBar && onBar(r, b);
        rect.addEventListener("click", pick);
        rect.addEventListener("keydown", e => { if (e.key === "Enter") pick(); });
        svg.append(rect);
      }
    });
    box.replaceChildren(svg);
  }

  // legend is the key to the colours, in the page's language.
  function legend() {
    const p = document.createElement("p");
    p.className = "timeline-legend";
    for (const k of ["employee", "contractor", "visitor"]) {
      const s = document.createElement("span");
      s.className = `swatch kind-${k}`;
      s.textContent = I18N.t("kind." + k, k);
      p.append(s, " ");
    }
    const a = document.createElement("span");
    a.className = "swatch alarm";
    a.textContent = I18N.t("timeline.alarm");
    p.append(a);
    return p;
  }

  return { rows, draw, legend };
})();
