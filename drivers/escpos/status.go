package escpos

import (
	"fmt"

	"showpos/device"
)

// Decode reads the answers to DLE EOT 1 (printer), 2 (offline cause) and
// 4 (roll paper sensor) as Epson's ESC/POS reference defines them:
//
//	n=1 bit 3: offline
//	n=2 bit 2: cover open; bit 5: stopped at paper end; bit 6: error
//	n=4 bits 2-3: paper near end; bits 5-6: paper end
func Decode(printer, cause, paper byte) device.PrinterStatus {
	return device.PrinterStatus{
		Online:    printer&0x08 == 0,
		CoverOpen: cause&0x04 != 0,
		PaperOut:  paper&0x60 != 0 || cause&0x20 != 0,
		PaperLow:  paper&0x0C != 0,
	}
}

// refusal is why a printer in status s cannot print now, or nil: paper
// out, cover open, or offline for another cause (an error such as a
// cutter jam, which needs a person too), reported as ErrPrinterGone.
func refusal(s device.PrinterStatus) error {
	switch {
	case s.PaperOut:
		return device.ErrPaperOut
	case s.CoverOpen:
		return device.ErrCoverOpen
	case !s.Online:
		return fmt.Errorf("offline: %w", device.ErrPrinterGone)
	}
	return nil
}
