// Command go-layouts reads a probe binary built by one Go release (with
// DWARF and a symbol table) and prints its entry of user/go_layout_table.c:
// the offsets of the runtime.g, gobuf, stack, m and moduledata fields a
// goroutine scan reads, and runtime.waitReasonStrings as that release has it.
//
//	go-layouts -release go1.21.13 -minor 21 probe-binary
package main

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-layouts: "+format+"\n", args...)
	os.Exit(1)
}

// structs returns the named struct types of the DWARF.
func structs(d *dwarf.Data, names map[string]bool) map[string]*dwarf.StructType {
	out := map[string]*dwarf.StructType{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fail("DWARF: %v", err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if !names[name] || out[name] != nil {
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			fail("DWARF type %s: %v", name, err)
		}
		if st, ok := t.(*dwarf.StructType); ok {
			out[name] = st
		}
	}
	for n := range names {
		if out[n] == nil {
			fail("no %s in the DWARF", n)
		}
	}
	return out
}

func field(st *dwarf.StructType, name string) int64 {
	for _, f := range st.Field {
		if f.Name == name {
			return f.ByteOffset
		}
	}
	fail("%s has no field %s", st.StructName, name)
	return 0
}

// waitReasons reads runtime.waitReasonStrings from the file (not PIE: its
// string pointers are link-time addresses).
func waitReasons(f *elf.File) []string {
	syms, err := f.Symbols()
	if err != nil {
		fail("symbols: %v", err)
	}
	read := func(addr, n uint64) []byte {
		for _, s := range f.Sections {
			if s.Type == elf.SHT_PROGBITS && addr >= s.Addr && addr+n <= s.Addr+s.Size {
				b := make([]byte, n)
				if _, err := s.ReadAt(b, int64(addr-s.Addr)); err != nil {
					fail("read %#x: %v", addr, err)
				}
				return b
			}
		}
		fail("no section holds %#x+%d", addr, n)
		return nil
	}
	for _, s := range syms {
		if s.Name != "runtime.waitReasonStrings" {
			continue
		}
		if s.Size == 0 || s.Size%16 != 0 || s.Size/16 > 255 {
			fail("runtime.waitReasonStrings has size %d", s.Size)
		}
		arr := read(s.Value, s.Size)
		var out []string
		for i := uint64(0); i < s.Size/16; i++ {
			ptr := binary.LittleEndian.Uint64(arr[i*16:])
			n := binary.LittleEndian.Uint64(arr[i*16+8:])
			if n == 0 {
				out = append(out, "")
				continue
			}
			out = append(out, string(read(ptr, n)))
		}
		return out
	}
	fail("no runtime.waitReasonStrings symbol")
	return nil
}

func main() {
	release := flag.String("release", "", "the Go release the probe was built with")
	minor := flag.Int("minor", 0, "its minor version")
	flag.Parse()
	if flag.NArg() != 1 || *release == "" || *minor == 0 {
		fail("usage: go-layouts -release go1.X.Y -minor X probe")
	}
	f, err := elf.Open(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	d, err := f.DWARF()
	if err != nil {
		fail("DWARF: %v", err)
	}
	t := structs(d, map[string]bool{"runtime.g": true, "runtime.gobuf": true,
		"runtime.stack": true, "runtime.m": true, "runtime.moduledata": true})
	g, gobuf, stack := t["runtime.g"], t["runtime.gobuf"], t["runtime.stack"]
	sched, stk := field(g, "sched"), field(g, "stack")
	wr := waitReasons(f)

	v := fmt.Sprintf("go1_%d", *minor)
	var b strings.Builder
	fmt.Fprintf(&b, "static const char *const wait_reasons_%s[] = {\n", v)
	for i, s := range wr {
		fmt.Fprintf(&b, "\t[%d] = %s,\n", i, strconv.Quote(s))
	}
	fmt.Fprintf(&b, "};\n\n")
	fmt.Fprintf(&b, "#define ENTRY_%s { \\\n", v)
	fmt.Fprintf(&b, "\t.major = 1, .minor = %d, .release = %q, \\\n", *minor, *release)
	fmt.Fprintf(&b, "\t.layout = { \\\n")
	fmt.Fprintf(&b, "\t\t.g_size = %d, .g_stack_lo = %d, .g_stack_hi = %d, .g_m = %d, \\\n",
		g.ByteSize, stk+field(stack, "lo"), stk+field(stack, "hi"), field(g, "m"))
	fmt.Fprintf(&b, "\t\t.g_sched_sp = %d, .g_sched_pc = %d, .g_sched_bp = %d, \\\n",
		sched+field(gobuf, "sp"), sched+field(gobuf, "pc"), sched+field(gobuf, "bp"))
	fmt.Fprintf(&b, "\t\t.g_syscallsp = %d, .g_syscallpc = %d, .g_atomicstatus = %d, \\\n",
		field(g, "syscallsp"), field(g, "syscallpc"), field(g, "atomicstatus"))
	fmt.Fprintf(&b, "\t\t.g_goid = %d, .g_waitreason = %d, .g_tracking_seq = %d, \\\n",
		field(g, "goid"), field(g, "waitreason"), field(g, "trackingSeq"))
	fmt.Fprintf(&b, "\t\t.g_gopc = %d, .g_startpc = %d, .m_procid = %d, \\\n",
		field(g, "gopc"), field(g, "startpc"), field(t["runtime.m"], "procid"))
	fmt.Fprintf(&b, "\t}, \\\n")
	fmt.Fprintf(&b, "\t.moduledata_text = %d, .moduledata_gofunc = %d, \\\n",
		field(t["runtime.moduledata"], "text"), field(t["runtime.moduledata"], "gofunc"))
	fmt.Fprintf(&b, "\t.wait_reasons = wait_reasons_%s, \\\n", v)
	fmt.Fprintf(&b, "\t.n_wait_reasons = %d, \\\n}\n\n", len(wr))
	os.Stdout.WriteString(b.String())
}
