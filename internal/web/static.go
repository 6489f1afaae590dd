package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var staticFS embed.FS

// noDirs serves only files: opening a directory fails as if it did not
// exist, so the file server answers 404 instead of a listing.
type noDirs struct{ fsys fs.FS }

// Open opens name unless it is a directory.
func (n noDirs) Open(name string) (fs.File, error) {
	f, err := n.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		_ = f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}
