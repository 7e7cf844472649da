package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"image"
	"image/color"
	"image/png"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/phantomos/phantomos/internal/mail"
)

// Payload is what a delivery carries, fixed when it is created so that a
// retry sends the same message.
type Payload struct {
	// To is the email address of an email delivery.
	To string `json:"to,omitempty"`
	// Label names a digest ("Daily digest, 6 Dec 2026").
	Label  string  `json:"label,omitempty"`
	Alerts []Alert `json:"alerts,omitempty"`
	Weekly *Weekly `json:"weekly,omitempty"`
	Report *Report `json:"report,omitempty"`
	// Settings is the absolute address of the notification settings;
	// Unsubscribe the signed address that stops the weekly digest.
	Settings    string `json:"settings,omitempty"`
	Unsubscribe string `json:"unsubscribe,omitempty"`
}

// Weekly is the content of a weekly digest.
type Weekly struct {
	Publisher string      `json:"publisher"`
	Currency  string      `json:"currency"`
	From      string      `json:"from"`
	To        string      `json:"to"`
	Net       int64       `json:"net"`
	PrevNet   int64       `json:"prev_net"`
	Days      []DayAmount `json:"days"`
	TopAssets []Named     `json:"top_assets"`
	Risks     []Alert     `json:"risks"`
	Openings  []Alert     `json:"opportunities"`
	Overview  string      `json:"overview"` // link
	Assets    string      `json:"assets"`   // link
}

// DayAmount is one day's net revenue in minor units.
type DayAmount struct {
	Day    string `json:"day"`
	Amount int64  `json:"amount"`
}

// Named is an amount with a name and a link.
type Named struct {
	Name   string `json:"name"`
	Amount int64  `json:"amount"`
	Link   string `json:"link"`
}

// Report is a scheduled report's CSV file.
type Report struct {
	Name     string `json:"name"`
	Period   string `json:"period"`
	Filename string `json:"filename"`
	CSV      string `json:"csv"`
	Link     string `json:"link"` // the view in the product
}

// Change formats the change from prev to cur as a signed percentage.
func Change(cur, prev int64) string {
	if prev == 0 {
		return "no sales the week before"
	}
	return fmt.Sprintf("%+.1f%% on the week before", float64(cur-prev)*100/float64(abs(prev)))
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Money formats minor units of currency: "USD 1,234.56".
func Money(v int64, currency string) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	whole := fmt.Sprint(v / 100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s %s.%02d", sign, currency, b.String(), v%100)
}

// webhookBody is the JSON a webhook carries.
func webhookBody(now time.Time, data any) ([]byte, error) {
	return json.Marshal(map[string]any{"type": "insights.alert", "timestamp": now.UTC().Format(time.RFC3339), "data": data})
}

// SlackMessage is the Block Kit message of alerts: a header, one section
// per alert with its confidence, and a button to its evidence.
func SlackMessage(label string, alerts []Alert) ([]byte, error) {
	text := label
	if len(alerts) == 1 && label == "" {
		text = alerts[0].Title
	}
	blocks := []any{map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(orDefault(label, "PhantomOS insight"), 140)}}}
	for i, a := range alerts {
		if i == 20 { // Slack allows 50 blocks a message
			blocks = append(blocks, map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": fmt.Sprintf("and %d more in PhantomOS", len(alerts)-i)}}})
			break
		}
		blocks = append(blocks,
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(fmt.Sprintf("*%s*\n%s", slackEscape(a.Title), slackEscape(a.Description)), 2900)},
				"accessory": map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": "See the evidence"}, "url": a.Link, "action_id": "evidence-" + fmt.Sprint(i)}},
			map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": fmt.Sprintf("%s · confidence %s", a.Kind, Percent(a.Confidence))}}})
	}
	return json.Marshal(map[string]any{"text": truncate(text, 3000), "blocks": blocks})
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var alertText = texttemplate.Must(texttemplate.New("t").Funcs(texttemplate.FuncMap{"percent": Percent}).Parse(
	`{{if .Label}}{{.Label}}

{{end}}{{range .Alerts}}{{.Title}}
{{.Description}}
{{.Kind}} · confidence {{percent .Confidence}}
Evidence: {{.Link}}

{{end}}--
You get this because of a rule in your notification settings: {{.Settings}}
`))

var alertHTML = htmltemplate.Must(htmltemplate.New("t").Funcs(htmltemplate.FuncMap{"percent": Percent}).Parse(
	`<!doctype html><html><body style="margin:0;padding:24px;background:#fff;color:#0a0a0a;font:14px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif">
{{if .Label}}<h1 style="font-size:18px;margin:0 0 16px">{{.Label}}</h1>{{end}}
{{range .Alerts}}<div style="border:1px solid #e5e5e5;padding:16px;margin:0 0 12px">
<p style="margin:0 0 4px;font-weight:600">{{.Title}}</p>
<p style="margin:0 0 8px;color:#404040">{{.Description}}</p>
<p style="margin:0;color:#737373;font-size:12px">{{.Kind}} · confidence {{percent .Confidence}} · <a href="{{.Link}}" style="color:#0a0a0a">See the evidence</a></p>
</div>{{end}}
<p style="color:#737373;font-size:12px">You get this because of a rule in your <a href="{{.Settings}}" style="color:#737373">notification settings</a>.</p>
</body></html>`))

// AlertEmail is the email of an alert or a digest of alerts.
func AlertEmail(p *Payload) (mail.Message, error) {
	subject := p.Label
	if subject == "" && len(p.Alerts) > 0 {
		subject = p.Alerts[0].Title
	}
	var text, html bytes.Buffer
	if err := alertText.Execute(&text, p); err != nil {
		return mail.Message{}, err
	}
	if err := alertHTML.Execute(&html, p); err != nil {
		return mail.Message{}, err
	}
	return mail.Message{To: p.To, Subject: truncate(oneLine(subject), 150), Body: text.String(), HTML: html.String()}, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var weeklyFuncs = map[string]any{"money": Money, "change": Change, "percent": Percent}

var weeklyText = texttemplate.Must(texttemplate.New("t").Funcs(weeklyFuncs).Parse(
	`{{with .Weekly}}{{.Publisher}}: your week, {{.From}} to {{.To}}

Net revenue: {{money .Net .Currency}} ({{change .Net .PrevNet}})
Overview: {{.Overview}}

Top assets
{{range .TopAssets}}- {{.Name}}: {{money .Amount $.Weekly.Currency}}
{{else}}- No asset sold this week.
{{end}}
New risks
{{range .Risks}}- {{.Title}} ({{.Link}})
{{else}}- None this week.
{{end}}
New opportunities
{{range .Openings}}- {{.Title}} ({{.Link}})
{{else}}- None this week.
{{end}}{{end}}
--
Stop these emails (no sign-in needed): {{.Unsubscribe}}
Notification settings: {{.Settings}}
`))

var weeklyHTML = htmltemplate.Must(htmltemplate.New("t").Funcs(weeklyFuncs).Parse(
	`<!doctype html><html><body style="margin:0;padding:24px;background:#fff;color:#0a0a0a;font:14px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif">
{{with .Weekly}}<p style="margin:0;color:#737373;font-size:12px">{{.Publisher}} · {{.From}} to {{.To}}</p>
<h1 style="font-size:18px;margin:4px 0 16px">Your week in PhantomOS</h1>
<p style="margin:0;color:#737373;font-size:12px">Net revenue</p>
<p style="margin:0;font-size:24px;font-weight:600">{{money .Net .Currency}}</p>
<p style="margin:0 0 12px;color:#404040">{{change .Net .PrevNet}}</p>
<img src="cid:chart" width="480" height="160" alt="Net revenue by day, {{.From}} to {{.To}}" style="display:block;border:0;max-width:100%">
<p><a href="{{.Overview}}" style="color:#0a0a0a">Open the Overview</a></p>
<h2 style="font-size:15px;margin:24px 0 8px">Top assets</h2>
<table style="border-collapse:collapse;width:100%">{{range .TopAssets}}<tr><td style="padding:4px 0;border-bottom:1px solid #e5e5e5"><a href="{{.Link}}" style="color:#0a0a0a">{{.Name}}</a></td><td style="padding:4px 0;border-bottom:1px solid #e5e5e5;text-align:right;font-variant-numeric:tabular-nums">{{money .Amount $.Weekly.Currency}}</td></tr>{{else}}<tr><td style="color:#737373">No asset sold this week.</td></tr>{{end}}</table>
<h2 style="font-size:15px;margin:24px 0 8px">New risks</h2>
{{range .Risks}}<p style="margin:0 0 6px"><a href="{{.Link}}" style="color:#0a0a0a">{{.Title}}</a></p>{{else}}<p style="color:#737373">None this week.</p>{{end}}
<h2 style="font-size:15px;margin:24px 0 8px">New opportunities</h2>
{{range .Openings}}<p style="margin:0 0 6px"><a href="{{.Link}}" style="color:#0a0a0a">{{.Title}}</a></p>{{else}}<p style="color:#737373">None this week.</p>{{end}}{{end}}
<p style="color:#737373;font-size:12px;margin-top:32px"><a href="{{.Unsubscribe}}" style="color:#737373">Unsubscribe</a> from the weekly digest · <a href="{{.Settings}}" style="color:#737373">Notification settings</a></p>
</body></html>`))

// WeeklyEmail is the weekly digest: text and HTML with the chart inline
// as a PNG, and List-Unsubscribe headers for one-click unsubscribe
// (RFC 8058).
func WeeklyEmail(p *Payload) (mail.Message, error) {
	w := p.Weekly
	var text, html bytes.Buffer
	if err := weeklyText.Execute(&text, p); err != nil {
		return mail.Message{}, err
	}
	if err := weeklyHTML.Execute(&html, p); err != nil {
		return mail.Message{}, err
	}
	chart, err := DaysPNG(w.Days, 480, 160)
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{To: p.To, Subject: truncate(oneLine(fmt.Sprintf("Your week: %s net revenue (%s)", Money(w.Net, w.Currency), Change(w.Net, w.PrevNet))), 150),
		Body: text.String(), HTML: html.String(),
		Parts:   []mail.Part{{Filename: "net-revenue.png", ContentType: "image/png", ContentID: "chart", Data: chart}},
		Headers: map[string]string{"List-Unsubscribe": "<" + p.Unsubscribe + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}, nil
}

// ReportEmail is a scheduled report: a short text and the CSV attached.
func ReportEmail(p *Payload) mail.Message {
	r := p.Report
	body := fmt.Sprintf("%s, %s.\n\nThe CSV is attached. Open the view in PhantomOS: %s\n\n--\nOwners and admins manage scheduled reports in %s\n", r.Name, r.Period, r.Link, p.Settings)
	return mail.Message{To: p.To, Subject: truncate(oneLine("Report: "+r.Name+", "+r.Period), 150), Body: body,
		Parts: []mail.Part{{Filename: r.Filename, ContentType: "text/csv; charset=utf-8", Data: []byte(r.CSV)}}}
}

// DaysPNG draws the days' amounts as a bar chart, near-black bars on
// white over a gray baseline (DESIGN.md §6), w×h pixels. Mail clients do
// not show SVG, so the digest carries this.
func DaysPNG(days []DayAmount, w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	const pad = 8
	base := h - pad
	fill(img, image.Rect(pad, base, w-pad, base+1), color.RGBA{0xe5, 0xe5, 0xe5, 255})
	var max int64
	for _, d := range days {
		if d.Amount > max {
			max = d.Amount
		}
	}
	if n := len(days); n > 0 && max > 0 {
		slot := (w - 2*pad) / n
		bar := slot * 7 / 10
		for i, d := range days {
			if d.Amount <= 0 {
				continue
			}
			bh := int(int64(base-pad) * d.Amount / max)
			x := pad + i*slot + (slot-bar)/2
			fill(img, image.Rect(x, base-bh, x+bar, base), color.RGBA{0x0a, 0x0a, 0x0a, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}
