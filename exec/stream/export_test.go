package stream

// SetStateLayout rewrites the layout recorded in the checkpoint of the
// pipeline state in dir, as an earlier version of etlc would have written
// it (for tests of resuming from another layout).
func SetStateLayout(dir, layout string) error {
	st, err := openStore(dir)
	if err != nil {
		return err
	}
	defer st.close()
	m, err := st.loadMeta()
	if err != nil {
		return err
	}
	m.Layout = layout
	data, err := jsonMarshal(m)
	if err != nil {
		return err
	}
	return st.db.Set([]byte(metaKey), data, nil)
}
