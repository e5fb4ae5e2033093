package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// machine is what the figures were measured on, read from /proc and /sys.
type machine struct {
	CPU      string // model
	Board    string // device-tree model or DMI product, if any
	Cores    int    // online processors
	RAM      int64  // bytes
	Disk     string // the block device under the work directory, and its kind
	FS       string // the work directory's file system
	Kernel   string
	Go       string // version, GOOS/GOARCH
	CGO      bool   // posbench (and so posd) built with cgo: libsecp256k1
	InMemory bool   // the work directory is on tmpfs: fsync costs nothing there
}

func (m machine) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d cores", m.CPU, m.Cores)
	if m.Board != "" {
		fmt.Fprintf(&b, " (%s)", m.Board)
	}
	fmt.Fprintf(&b, ", %.1f GiB RAM, disk: %s, %s; Linux %s; %s", float64(m.RAM)/(1<<30), m.Disk, m.FS, m.Kernel, m.Go)
	if m.CGO {
		b.WriteString(", cgo (sender recovery by libsecp256k1)")
	} else {
		b.WriteString(", CGO_ENABLED=0 (sender recovery by decred secp256k1, as in the ARM builds)")
	}
	if m.InMemory {
		b.WriteString(". WARNING: the work directory is in memory, so fsync is free and the accept figures flatter the disk")
	}
	return b.String()
}

// describeMachine reads the machine's description; dir is the work
// directory whose disk is described.
func describeMachine(dir string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.CPU, m.Cores = parseCPUInfo(f)
		f.Close()
	}
	if m.Cores == 0 {
		m.Cores = runtime.NumCPU()
	}
	m.Board = firstLine("/sys/firmware/devicetree/base/model", "/sys/class/dmi/id/product_name")
	if f, err := os.Open("/proc/meminfo"); err == nil {
		m.RAM = parseMemTotal(f)
		f.Close()
	}
	m.Kernel = firstLine("/proc/sys/kernel/osrelease")
	m.Disk, m.FS, m.InMemory = describeDisk(dir)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" {
				m.CGO = s.Value == "1"
			}
		}
	}
	return m
}

// parseCPUInfo returns the CPU model and the number of processors in a
// /proc/cpuinfo. x86 and many ARM kernels give "model name"; other ARM
// kernels give only the implementer and part numbers, named here for the
// cores boards use.
func parseCPUInfo(f *os.File) (model string, cores int) {
	var part, hardware string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			cores++
		case "model name":
			if model == "" {
				model = v
			}
		case "CPU part":
			if part == "" {
				part = v
			}
		case "Hardware":
			hardware = v
		}
	}
	if model == "" || strings.HasPrefix(model, "ARMv") {
		if name, ok := armParts[strings.ToLower(part)]; ok {
			model = name
		} else if part != "" {
			model = "ARM core part " + part
		}
	}
	if hardware != "" {
		model += " on " + hardware
	}
	if model == "" {
		model = "unknown CPU"
	}
	return model, cores
}

// armParts names ARM Ltd. cores by their /proc/cpuinfo "CPU part".
var armParts = map[string]string{
	"0xc07": "Cortex-A7", "0xc09": "Cortex-A9", "0xc0f": "Cortex-A15",
	"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55",
	"0xd07": "Cortex-A57", "0xd08": "Cortex-A72", "0xd09": "Cortex-A73",
	"0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76", "0xd0d": "Cortex-A77",
	"0xd41": "Cortex-A78", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710",
	"0xd0c": "Neoverse-N1", "0xd40": "Neoverse-V1", "0xd49": "Neoverse-N2",
}

func parseMemTotal(f *os.File) int64 {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// describeDisk names the block device dir is on and its kind, and the file
// system.
func describeDisk(dir string) (disk, fs string, inMemory bool) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "unknown", "unknown file system", false
	}
	major, minor := unix.Major(st.Dev), unix.Minor(st.Dev)
	fs, source := mountOf(major, minor)
	if fs == "tmpfs" || fs == "ramfs" {
		return "none (" + fs + ")", fs, true
	}
	if major == 0 {
		// overlay, btrfs subvolumes and the like: name the source only.
		return source, fs, false
	}
	sys, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor))
	if err != nil {
		return source, fs, false
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		sys = filepath.Dir(sys) // the whole disk
	}
	name := filepath.Base(sys)
	rotational := firstLine(filepath.Join(sys, "queue/rotational")) == "1"
	model := strings.Join(strings.Fields(firstLine(filepath.Join(sys, "device/model"), filepath.Join(sys, "device/name"))), " ")
	var kind string
	switch {
	case strings.HasPrefix(name, "mmcblk"):
		kind = firstLine(filepath.Join(sys, "device/type")) // SD or MMC
		if kind == "" {
			kind = "SD/eMMC"
		}
		kind += " card"
	case strings.HasPrefix(name, "nvme"):
		kind = "NVMe SSD"
	case strings.Contains(sys, "/virtio"):
		kind = "virtio block device (virtual machine disk"
		if rotational {
			kind += ", reported rotational"
		}
		kind += ")"
	case strings.Contains(sys, "/usb"):
		kind = "USB drive"
	case rotational:
		kind = "rotating disk"
	default:
		kind = "SSD"
	}
	disk = name + ", " + kind
	if model != "" {
		disk += " " + model
	}
	return disk, fs, false
}

// mountOf finds the file system type and source of the mount whose device
// is major:minor.
func mountOf(major, minor uint32) (fs, source string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "unknown file system", ""
	}
	defer f.Close()
	want := fmt.Sprintf("%d:%d", major, minor)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[2] != want {
			continue
		}
		for i, x := range fields {
			if x == "-" && i+2 < len(fields) {
				return fields[i+1], fields[i+2]
			}
		}
	}
	return "unknown file system", ""
}

// firstLine returns the first non-empty line of the first readable file.
func firstLine(paths ...string) string {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(strings.SplitN(strings.Trim(string(b), "\x00 \n"), "\n", 2)[0])
		if s != "" {
			return strings.TrimRight(s, "\x00")
		}
	}
	return ""
}
