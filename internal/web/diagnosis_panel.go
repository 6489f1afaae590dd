package web

// The "why isn't it sending?" panel the campaign and account pages share
// (docs/surfaces.md#why-isnt-it-sending).

import (
	"time"

	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
)

// diagnosisPanel is a diagnosis as the panel shows it: the headline first,
// then the next action in its sender's zone (and UTC), then the findings
// with their clear times in their sender's zone.
type diagnosisPanel struct {
	Headline string
	Sending  bool
	// NextLocal is empty when nothing will happen by itself.
	NextLocal, NextUTC, NextISO string
	Findings                    []panelFinding
}

type panelFinding struct {
	Code, Severity, Message string
	// ClearsLocal is empty when no clear time is known.
	ClearsLocal, ClearsISO string
}

func newDiagnosisPanel(r diagnose.Report, now time.Time) diagnosisPanel {
	p := diagnosisPanel{Headline: r.Headline, Sending: r.Sending}
	if t := r.NextActionAt; t != nil {
		p.NextLocal = policy.When(*t, r.Location(), now)
		p.NextUTC = t.UTC().Format("2006-01-02 15:04 UTC")
		p.NextISO = t.UTC().Format(time.RFC3339)
	}
	for _, f := range r.Findings {
		pf := panelFinding{Code: f.Code, Severity: f.Severity, Message: f.Message}
		if t := f.ClearsAt; t != nil {
			pf.ClearsLocal = policy.When(*t, r.ZoneOf(f), now)
			pf.ClearsISO = t.UTC().Format(time.RFC3339)
		}
		p.Findings = append(p.Findings, pf)
	}
	return p
}
