// Camera stills beside the events they were taken for: a thumbnail that
// opens full size in the page, with Frigate's recording beside it.
const Stills = (() => {
  let dialog;
  function view(src, title, frigate) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "still-view";
      dialog.innerHTML = `<figure><img alt=""><figcaption><span></span> <a target="_blank" rel="noopener">Frigate</a></figcaption></figure>`;
      dialog.addEventListener("click", () => dialog.close());
      document.body.appendChild(dialog);
    }
    dialog.querySelector("img").src = src;
    dialog.querySelector("span").textContent = title;
    const a = dialog.querySelector("a");
    a.hidden = !frigate;
    a.href = frigate || "#";
    a.onclick = e => e.stopPropagation();
    dialog.showModal();
  }
  function frigateLink(href) {
    const a = document.createElement("a");
    a.href = href; a.target = "_blank"; a.rel = "noopener"; a.className = "frigate"; a.textContent = "Frigate";
    return a;
  }
  // Camera events that sit beside the entry they were made for.
  const BESIDE = new Set(["camera.snapshot", "camera.failed", "camera.recognized"]);
  // recognized is the names Frigate put to faces or plates around the
  // entry, with their scores; red when none is the card's holder's and a
  // face was someone else's.
  function recognized(ev) {
    const s = document.createElement("span");
    s.className = "recognized" + (ev.detail.other ? " mismatch" : "");
    s.textContent = `${I18N.t("still.recognized")}: ${ev.detail.recognized}`;
    s.title = `${ev.detail.frigate_camera} · ${I18N.t("type.camera.recognized")}`;
    return s;
  }
  // links turns camera events into thumbnails (or a mark saying why a
  // camera gave none). about is the entry they were taken for (time, door,
  // who), which the full-size view names above the camera and hash, with
  // what the cameras recognised.
  function links(camEvents, about = {}) {
    const names = camEvents.filter(e => e.type === "camera.recognized").map(e => `${I18N.t("still.recognized")}: ${e.detail.recognized}`);
    return camEvents.map(ev => {
      const cam = (ev.camera && ev.camera.id) || "";
      if (ev.type === "camera.recognized") return recognized(ev);
      if (ev.type === "camera.failed") {
        const s = document.createElement("span");
        s.className = "still-failed";
        s.textContent = "✕ " + I18N.t("type.camera.failed");
        s.title = `${cam}: ${ev.detail.error}`;
        return s;
      }
      if (!ev.detail.file) return frigateLink(ev.detail.frigate_url || "#"); // a Frigate-only camera
      const src = "/api/stills/" + ev.detail.file;
      const a = document.createElement("a");
      a.href = src; a.className = "still";
      a.title = [about.time, about.door, about.who, ...names, `${I18N.t("still.camera")} ${cam}`, `SHA-256 ${ev.camera.snapshot_sha256}`].filter(Boolean).join(" · ");
      const img = document.createElement("img");
      img.src = src; img.alt = cam; img.loading = "lazy";
      a.appendChild(img);
      a.addEventListener("click", e => { e.preventDefault(); view(src, a.title, ev.detail.frigate_url); });
      return a;
    });
  }
  return { links, frigateLink, view, BESIDE };
})();
