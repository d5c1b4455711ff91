// Words of the dashboard in Japanese and English. Guards on a Japanese floor
// read Japanese; visiting engineers and integrators often read English.
const I18N = (() => {
  const words = {
    ja: {
      "login.name": "名前", "login.password": "パスワード", "login.submit": "ログイン",
      "login.failed": "名前またはパスワードが違います",
      "board.doors": "扉", "board.events": "入退室ログ（新しい順）", "board.logout": "ログアウト",
      "nav.board": "入退室ボード", "nav.desk": "受付", "nav.report": "来訪者記録",
      "desk.title": "受付", "desk.register": "来訪者の登録", "desk.name": "氏名", "desk.company": "会社",
      "desk.host": "担当者", "desk.purpose": "目的", "desk.date": "日付", "desk.zones": "立入エリア",
      "desk.nda": "秘密保持契約 番号", "desk.briefed": "新規受入れ者の指導を行った", "desk.locker": "携帯電話ロッカー",
      "desk.register_button": "登録", "desk.today": "本日の来訪者", "desk.status": "状態", "desk.badge": "入館証",
      "desk.checkin": "入館（入館証を渡す）", "desk.checkout": "退館", "desk.covers": "目隠し確認:",
      "desk.registered": "登録しました", "desk.checked_in": "入館しました。入館証", "desk.checked_out": "退館しました",
      "desk.covered": "覆いを確認:", "status.registered": "登録済", "status.checked_in": "入館中", "status.checked_out": "退館済",
      "report.title": "来訪者記録", "report.briefing": "指導", "report.in": "入館", "report.out": "退館",
      "report.restricted": "制限エリア（入・出・同行）", "report.covers": "目隠し確認", "report.search": "検索", "nav.log": "入退室記録", "log.title": "入退室記録", "log.zone": "エリア",
      "log.audited": "この記録の閲覧・出力も記録されます。", "err.zone_not_yours": "担当外のエリアです", "desk.badges_out": "貸出中の入館証", "board.host": "担当", "col.camera": "カメラ",
      "alarm.tailgating": "共連れ", "alarm.intrusion": "侵入者（入室記録なし）", "alarm.phone": "携帯電話（撮影禁止エリア）",
      "alarm.overstay": "退館漏れ", "type.camera.detection": "カメラ検知", "err.bad_parameter": "入力が正しくありません",
      "err.invalid_visit": "登録できません", "err.in_use": "その入館証は使用中です", "err.briefing_missing": "指導が済んでいません",
      "err.not_checked_in": "入館していません", "err.not_today": "本日の来訪ではありません", "err.not_a_day_badge": "来訪者用の入館証ではありません",
      "err.conflict": "この操作はできません", "err.not_found": "見つかりません",
      "board.alarms": "警報", "board.no_alarms": "警報なし", "board.ack": "確認", "board.zones": "エリア在室",
      "board.muster": "避難点呼リスト（印刷）", "board.lockdown": "ロックダウン", "board.lift": "ロックダウン解除",
      "board.lockdown_on": "ロックダウン中", "board.confirm_lockdown": "制限エリアをすべて施錠しますか？",
      "muster.title": "避難点呼リスト", "muster.print": "印刷", "muster.zone": "エリア", "muster.name": "氏名",
      "muster.company": "会社", "muster.kind": "区分", "muster.door": "最後の扉", "muster.time": "時刻", "muster.check": "確認",
      "muster.count": "構内の人数", "type.alarm.raised": "警報", "type.alarm.cleared": "警報解除", "type.alarm.acknowledged": "警報確認", "type.alarm.escalated": "上長へ通報", "board.escalated": "未確認のため上長へ通報済み",
      "type.visitor.registered": "来訪者登録", "type.visitor.checked_in": "来訪者入館", "type.visitor.checked_out": "来訪者退館",
      "type.visitor.cover_confirmed": "目隠し確認", "type.lockdown.started": "ロックダウン開始", "type.lockdown.lifted": "ロックダウン解除",
      "type.access.forgiven": "アンチパスバック解除", "reason.reader_locked_out": "リーダー停止中",
      "reason.two_person_required": "二人入室が必要", "reason.two_person_rule": "来訪者が残っています",
      "board.live": "ライブ", "board.offline": "未接続",
      "col.time": "時刻", "col.door": "扉", "col.who": "人 / カード", "col.what": "結果",
      "door.locked": "施錠", "door.unlocked": "解錠", "door.open": "開", "door.closed": "閉",
      "door.inside_only": "内側からのみ解錠",
      "sim.title": "シミュレーター", "sim.reader": "カードリーダー", "sim.swipe": "カードをかざす",
      "sim.open": "開ける", "sim.close": "閉める", "sim.rex": "退出ボタン",
      "sim.keys": "キー入力", "sim.tamper": "いたずら", "sim.untamper": "いたずら解除",
      "type.door.tamper": "いたずら検知！", "reason.pin_required": "暗証番号が必要", "reason.bad_pin": "暗証番号が違う",
      "sim.shift": "朝のシフトを再生", "sim.playing": "再生中…", "sim.sent": "送信しました",
      "type.access.granted": "許可", "type.access.denied": "拒否", "type.access.requested": "入館要求（警備員へ）",
      "type.door.unlocked": "解錠", "type.door.locked": "施錠", "type.door.opened": "開いた",
      "type.door.closed": "閉じた", "type.door.forced": "こじ開け！", "type.door.held": "開放しすぎ！",
      "type.door.rex": "退出ボタン", "type.system.started": "システム起動", "type.system.stopped": "システム停止",
      "reason.unknown_credential": "未登録のカード", "reason.expired": "期限切れ",
      "reason.outside_schedule": "時間外", "reason.not_authorized": "権限なし",
      "reason.anti_passback": "アンチパスバック", "reason.escort_required": "同行者が必要",
      "reason.cover_check_pending": "目隠し確認待ち", "reason.nda_missing": "秘密保持契約なし",
      "reason.lockdown": "ロックダウン中", "reason.inside_only": "内側からのみ",
      "reason.bad_frame": "読み取りエラー",
    },
    en: {
      "login.name": "Name", "login.password": "Password", "login.submit": "Log in",
      "login.failed": "Wrong name or password",
      "board.doors": "Doors", "board.events": "Entry log (newest first)", "board.logout": "Log out",
      "nav.board": "Entry board", "nav.desk": "Visitor desk", "nav.report": "Visitor log",
      "desk.title": "Visitor desk", "desk.register": "Register a visitor", "desk.name": "Name", "desk.company": "Company",
      "desk.host": "Host", "desk.purpose": "Purpose", "desk.date": "Date", "desk.zones": "Zones",
      "desk.nda": "NDA reference", "desk.briefed": "Briefing given", "desk.locker": "Phone locker",
      "desk.register_button": "Register", "desk.today": "Today's visitors", "desk.status": "Status", "desk.badge": "Badge",
      "desk.checkin": "Check in (hand badge)", "desk.checkout": "Check out", "desk.covers": "Covers done:",
      "desk.registered": "registered", "desk.checked_in": "checked in with badge", "desk.checked_out": "checked out",
      "desk.covered": "covered:", "status.registered": "registered", "status.checked_in": "on site", "status.checked_out": "left",
      "report.title": "Visitor log", "report.briefing": "Briefing", "report.in": "In", "report.out": "Out",
      "report.restricted": "Restricted zones (in, out, escort)", "report.covers": "Covers confirmed", "report.search": "Search", "nav.log": "Entry log", "log.title": "Entry log", "log.zone": "Zone",
      "log.audited": "Viewing and exporting this log are logged too.", "err.zone_not_yours": "Not a zone you review", "desk.badges_out": "Badges out", "board.host": "host", "col.camera": "Camera",
      "alarm.tailgating": "Tailgating", "alarm.intrusion": "Intruder (nobody badged in)", "alarm.phone": "Phone in a no-phones zone",
      "alarm.overstay": "Visitor not checked out", "type.camera.detection": "Camera saw", "err.bad_parameter": "Check the input",
      "err.invalid_visit": "Cannot register", "err.in_use": "That badge is in use", "err.briefing_missing": "The visitor has not been briefed",
      "err.not_checked_in": "Not checked in", "err.not_today": "The visit is not today", "err.not_a_day_badge": "Not a visitor badge",
      "err.conflict": "Not allowed now", "err.not_found": "Not found",
      "board.alarms": "Alarms", "board.no_alarms": "No alarms", "board.ack": "Acknowledge", "board.zones": "Who is where",
      "board.muster": "Muster list (print)", "board.lockdown": "Lockdown", "board.lift": "Lift lockdown",
      "board.lockdown_on": "LOCKDOWN", "board.confirm_lockdown": "Lock every restricted zone?",
      "muster.title": "Muster list", "muster.print": "Print", "muster.zone": "Zone", "muster.name": "Name",
      "muster.company": "Company", "muster.kind": "Kind", "muster.door": "Last door", "muster.time": "Time", "muster.check": "Present",
      "muster.count": "People on site", "type.alarm.raised": "Alarm", "type.alarm.cleared": "Alarm cleared", "type.alarm.acknowledged": "Alarm acknowledged", "type.alarm.escalated": "Alarm escalated", "board.escalated": "not acknowledged in time: passed to the supervisor",
      "type.visitor.registered": "Visitor registered", "type.visitor.checked_in": "Visitor checked in", "type.visitor.checked_out": "Visitor checked out",
      "type.visitor.cover_confirmed": "Covers confirmed", "type.lockdown.started": "Lockdown started", "type.lockdown.lifted": "Lockdown lifted",
      "type.access.forgiven": "Anti-passback forgiven", "reason.reader_locked_out": "reader locked out",
      "reason.two_person_required": "two people needed", "reason.two_person_rule": "a visitor is still inside",
      "board.live": "Live", "board.offline": "Offline",
      "col.time": "Time", "col.door": "Door", "col.who": "Person / card", "col.what": "Result",
      "door.locked": "Locked", "door.unlocked": "Unlocked", "door.open": "Open", "door.closed": "Closed",
      "door.inside_only": "Unlocks from inside only",
      "sim.title": "Simulator", "sim.reader": "Reader", "sim.swipe": "Swipe card",
      "sim.open": "Open", "sim.close": "Close", "sim.rex": "Exit button",
      "sim.keys": "Type keys", "sim.tamper": "Tamper", "sim.untamper": "Restore",
      "type.door.tamper": "TAMPER", "reason.pin_required": "PIN required", "reason.bad_pin": "wrong PIN",
      "sim.shift": "Play a morning shift", "sim.playing": "Playing…", "sim.sent": "Sent",
      "type.access.granted": "Granted", "type.access.denied": "Denied", "type.access.requested": "Asks to enter (guard)",
      "type.door.unlocked": "Unlocked", "type.door.locked": "Locked", "type.door.opened": "Opened",
      "type.door.closed": "Closed", "type.door.forced": "FORCED OPEN", "type.door.held": "HELD OPEN",
      "type.door.rex": "Exit button", "type.system.started": "System started", "type.system.stopped": "System stopped",
      "reason.unknown_credential": "unknown card", "reason.expired": "expired",
      "reason.outside_schedule": "outside schedule", "reason.not_authorized": "not authorised",
      "reason.anti_passback": "anti-passback", "reason.escort_required": "escort required",
      "reason.cover_check_pending": "cover check pending", "reason.nda_missing": "no NDA",
      "reason.lockdown": "lockdown", "reason.inside_only": "inside only",
      "reason.bad_frame": "bad read",
    },
  };
  let lang = localStorage.getItem("sekisho.lang") ||
    ((navigator.language || "ja").toLowerCase().startsWith("ja") ? "ja" : "en");
  const t = (key, fallback) => words[lang][key] ?? words.en[key] ?? (fallback === undefined ? key : fallback);
  const listeners = [];
  function apply() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(el => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    const toggle = document.getElementById("lang-toggle");
    if (toggle) toggle.textContent = lang === "ja" ? "English" : "日本語";
    listeners.forEach(f => f());
  }
  document.addEventListener("click", e => {
    if (e.target.id !== "lang-toggle") return;
    lang = lang === "ja" ? "en" : "ja";
    localStorage.setItem("sekisho.lang", lang);
    apply();
  });
  return { t, apply, onChange: f => listeners.push(f), get lang() { return lang; } };
})();
