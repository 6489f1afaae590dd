package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"label": func(s any) string {
		return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	},
	// fieldError feeds the field_error partial (see formErrors in form.go).
	"fieldError": func(fe formErrors, key, id string) fieldErrorArgs {
		return fieldErrorArgs{ID: id, Msg: fe.For(key)}
	},
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

func (s *Server) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return fmt.Errorf("parsing the layout template: %w", err)
	}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("listing templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("cloning the layout template: %w", err)
		}
		if _, err := t.ParseFS(templateFS, e); err != nil {
			return fmt.Errorf("parsing template %s: %w", e, err)
		}
		s.pages[name] = t
	}
	return nil
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Sandbox bool
	Session *session
	CSRF    string
	Error   string
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	p.Sandbox = s.opts.Sandbox
	if p.Session == nil {
		p.Session = sessionFrom(r)
	}
	if p.Session != nil {
		p.CSRF = p.Session.CSRF
		if strings.HasPrefix(p.Session.Flash, importFlashPrefix) {
			// An import's result is for its campaign page, which reads
			// it itself; it is no sentence for the banner.
			cp := *p.Session
			cp.Flash = ""
			p.Session = &cp
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.fail(w, r, fmt.Errorf("rendering %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
