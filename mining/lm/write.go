package lm

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// WriteBinary writes m as a KenLM binary file with the probing data
// structure, as `build_binary probing` does (format version
// [BinaryVersion], probing multiplier 1.5, with the vocabulary): KenLM and
// sift load it in milliseconds. For a model read from an ARPA file that
// lmplz wrote, the output is byte for byte build_binary's. A model read
// from a trie binary has no probing tables and returns an error.
func (m *Model) WriteBinary(w io.Writer) error {
	p := m.probe
	if p == nil {
		return fmt.Errorf("lm: WriteBinary: a %s model cannot be written as probing", m.format)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	h := m.appendBinHeader(nil, typeProbing, 0)
	h = ne.AppendUint32(h, 0) // probing vocabulary version
	h = ne.AppendUint32(h, uint32(m.counts[0]))
	bw.Write(h)
	bw.Write(m.words.probe.data)
	bw.Write(p.uni[:(m.counts[0]+1)*8])
	for _, t := range p.mid {
		bw.Write(t.data)
	}
	bw.Write(p.long.data)
	for id := range m.counts[0] {
		bw.WriteString(m.Word(uint32(id)))
		bw.WriteByte(0)
	}
	return bw.Flush()
}

// appendBinHeader appends the header of a binary file of the given model
// type and search version: KenLM's Sanity struct, FixedWidthParameters
// (probing multiplier 1.5, with the vocabulary) and the counts, padded to 8
// bytes.
func (m *Model) appendBinHeader(h []byte, modelType, searchVersion uint32) []byte {
	h = append(h, binMagic...)
	h = append(h, make([]byte, 56-len(binMagic))...)
	h = ne.AppendUint32(h, math.Float32bits(0))
	h = ne.AppendUint32(h, math.Float32bits(1))
	h = ne.AppendUint32(h, math.Float32bits(-0.5))
	h = ne.AppendUint32(h, 1)
	h = ne.AppendUint32(h, math.MaxUint32)
	h = ne.AppendUint32(h, 0)
	h = ne.AppendUint64(h, 1)
	h = append(h, byte(m.order), 0, 0, 0)
	h = ne.AppendUint32(h, math.Float32bits(1.5))
	h = ne.AppendUint32(h, modelType)
	h = append(h, 1, 0, 0, 0) // has_vocabulary
	h = ne.AppendUint32(h, searchVersion)
	for _, c := range m.counts {
		h = ne.AppendUint64(h, uint64(c))
	}
	for len(h)%8 != 0 {
		h = append(h, 0)
	}
	return h
}
