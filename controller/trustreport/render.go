package trustreport

import (
	_ "embed"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho/sekisho/controller/sheet"
)

// Statement is what the report's proofs cover and what they cannot, in
// the customer's language.
type Statement struct {
	Proves []string `json:"proves"`
	Cannot []string `json:"cannot"`
}

// Completeness says honestly what the bundle proves.
func Completeness(lang string) Statement {
	if lang == "ja" {
		return Statement{
			Proves: []string{
				"記載した各イベントが、当工場の改ざん検知付き記録に含まれていること（各イベントの包含証明と、当工場の鍵で署名されたチェックポイントにより、標準のツールで検証できます）。",
				"期間の前後のチェックポイントの間で、記録が追記のみで、削除や書き換えがないこと（一貫性証明）。第三者が署名したチェックポイントを保管していれば、当工場自身による後からの改ざんも検出できます。",
				"各入室時のカメラ静止画のハッシュが記録に残っていること（画像ファイルはハッシュで照合できます）。",
			},
			Cannot: []string{
				"カードを使わずに入った人（共連れ・侵入）は、入退室記録には現れません。カメラが検知した共連れ・侵入の警報を、この報告書に併記しています。",
				"記録される前に停止していた扉や、カメラのない場所での出来事は証明の対象外です。",
			},
		}
	}
	return Statement{
		Proves: []string{
			"Every event listed is in this site's tamper-evident log: each comes with an inclusion proof under a checkpoint signed with the site's key, checkable with standard tools.",
			"Between the checkpoints before and after the period the log only grew: nothing was removed or rewritten (a consistency proof). A checkpoint a third party countersigned and kept also catches a later rewrite by the site itself.",
			"The hash of the camera still taken at each entry is in the log: the picture files can be matched to it.",
		},
		Cannot: []string{
			"A person who entered without badging (tailgating, intrusion) is not in the entry log. The cameras' tailgating and intrusion alarms for these zones are shown beside it.",
			"What happened at a door that was out of service, or where no camera looks, is outside what the proofs cover.",
		},
	}
}

// WriteCSV writes one row per entry.
func WriteCSV(w io.Writer, r *Report, loc *time.Location) error {
	cw := sheet.NewWriter(w)
	_ = cw.Write([]string{"time", "zone", "door", "person", "kind", "company", "visit", "exit", "cover_confirmed_by", "cover_missing", "still_sha256", "seq"})
	covers := map[int64]Cover{}
	for _, c := range r.Visits {
		covers[c.EntrySeq] = c
	}
	for _, e := range r.Entries {
		var shas []string
		for _, s := range e.Stills {
			shas = append(shas, s.SHA256)
		}
		exit := ""
		if !e.Exit.IsZero() {
			exit = e.Exit.In(loc).Format(time.DateTime)
		}
		c, isVisit := covers[e.Seq]
		missing := ""
		if isVisit {
			missing = strconv.FormatBool(c.Missing)
		}
		if err := cw.Write([]string{e.Time.In(loc).Format(time.DateTime), e.Zone, e.Door, e.Person.Name, e.Person.Kind, e.Person.Company,
			e.Visit, exit, c.By, missing, strings.Join(shas, " "), strconv.FormatInt(e.Seq, 10)}); err != nil {
			return err
		}
	}
	return cw.Flush()
}

//go:embed report.html
var page string

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"at": func(loc *time.Location, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(loc).Format("2006-01-02 15:04")
	},
}).Parse(page))

// WriteHTML writes the printable report, in lang (ja or en), for a file
// that opens anywhere: no script, no link outside it.
func WriteHTML(w io.Writer, r *Report, loc *time.Location, lang string) error {
	if lang != "ja" {
		lang = "en"
	}
	words := labels[lang]
	return pageTmpl.Execute(w, map[string]any{"R": r, "Loc": loc, "Lang": lang, "W": words, "S": Completeness(lang)})
}

var labels = map[string]map[string]string{
	"ja": {"title": "お客様向け 入退室・預かり品報告書", "period": "期間", "site": "工場", "generated": "作成", "assets": "預かり品の所在",
		"asset": "品目", "zone": "エリア", "from": "から", "to": "まで", "by": "移動した人", "entries": "入室", "time": "時刻", "door": "扉",
		"person": "人", "kind": "区分", "company": "会社", "exit": "退室", "stillhash": "静止画 SHA-256", "still": "期間の終わりにも保管中", "people": "入室した人",
		"count": "回数", "visits": "他社の来訪者と目隠し確認", "visitor": "来訪者", "entered": "入室", "confirmed": "確認者・時刻",
		"missing": "目隠し確認なし", "alarms": "警報", "alarm": "警報", "camera": "カメラ検知", "proves": "この報告書が証明すること",
		"cannot": "証明できないこと", "none": "なし", "employee": "従業員", "contractor": "協力会社", "visitor_kind": "来訪者",
		"key": "検証鍵", "checkpoints": "チェックポイント"},
	"en": {"title": "Customer report: entries and assets", "period": "Period", "site": "Site", "generated": "Generated", "assets": "Where the assets were",
		"asset": "Asset", "zone": "Zone", "from": "From", "to": "To", "by": "Moved by", "entries": "Entries", "time": "Time", "door": "Door",
		"person": "Person", "kind": "Kind", "company": "Company", "exit": "Exit", "stillhash": "Still SHA-256", "still": "still there at the end", "people": "Who entered",
		"count": "Entries", "visits": "Other companies' visitors and the cover check", "visitor": "Visitor", "entered": "Entered", "confirmed": "Confirmed by, at",
		"missing": "no cover confirmation", "alarms": "Alarms", "alarm": "Alarm", "camera": "found by camera", "proves": "What this report proves",
		"cannot": "What it cannot prove", "none": "none", "employee": "Employees", "contractor": "Contractors", "visitor_kind": "Visitors",
		"key": "Verifier key", "checkpoints": "Checkpoints"},
}
