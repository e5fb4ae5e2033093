package nfcpay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"showpos/device"
	"showpos/device/clock"
)

const (
	// ReadyPoll is the pause between two GET-TX-INFO while the phone
	// answers 69 85 (the payer is still confirming).
	ReadyPoll = 50 * time.Millisecond
	// ReadyTimeout bounds the wait for the signature when ctx allows more.
	ReadyTimeout = 30 * time.Second
)

// Pay runs one tap: SELECT the showpos app; send requestDoc (the signed
// request document's JSON) in PUT-REQUEST-CHUNKs of ChunkSize bytes; ask
// GET-TX-INFO until the phone has signed; fetch the signed raw transaction
// in GET-TX-CHUNKs; Release the tap. It returns the raw transaction bytes
// exactly as the phone sent them, for the terminal to check.
//
// ctx bounds the whole tap (device.DefaultTapTimeout is a sensible budget,
// more if the app asks the payer to confirm). The tap is released on every
// path; a failing Release after the whole transaction arrived is not an
// error (the phone may already be gone). Errors name the step and wrap
// ErrNotInstalled, ErrDeclined, ErrMalformed, ErrNotReady, *SWError,
// device.ErrGone or device.ErrTooLarge.
func Pay(ctx context.Context, tap device.Tap, requestDoc []byte) (tx []byte, err error) {
	defer func() {
		rerr := tap.Release()
		if err == nil || rerr == nil {
			return
		}
		err = errors.Join(err, fmt.Errorf("nfcpay: release: %w", rerr))
	}()
	if len(requestDoc) == 0 {
		return nil, errors.New("nfcpay: empty request document")
	}
	if len(requestDoc) > MaxRequest {
		return nil, fmt.Errorf("nfcpay: request document of %d bytes over %d: %w", len(requestDoc), MaxRequest, device.ErrTooLarge)
	}
	if err := selectApp(ctx, tap); err != nil {
		return nil, err
	}
	if err := putRequest(ctx, tap, requestDoc); err != nil {
		return nil, err
	}
	size, err := txInfo(ctx, tap)
	if err != nil {
		return nil, err
	}
	return getTx(ctx, tap, size)
}

// exchange sends apdu and splits the answer. step names it in errors.
func exchange(ctx context.Context, tap device.Tap, step string, apdu []byte) ([]byte, uint16, error) {
	r, err := tap.Exchange(ctx, apdu)
	if err != nil {
		return nil, 0, fmt.Errorf("nfcpay: %s: %w", step, err)
	}
	data, sw, err := split(r)
	if err != nil {
		return nil, 0, fmt.Errorf("nfcpay: %s: %w", step, err)
	}
	return data, sw, nil
}

func selectApp(ctx context.Context, tap device.Tap) error {
	const step = "SELECT AID"
	data, sw, err := exchange(ctx, tap, step, SelectAPDU())
	if err != nil {
		return err
	}
	switch sw {
	case SWOK:
	case SWNotFound:
		return fmt.Errorf("nfcpay: %s: %w (6A 82)", step, ErrNotInstalled)
	default:
		return fmt.Errorf("nfcpay: %w", &SWError{Step: step, SW: sw})
	}
	if len(data) != selectAnswerLen || data[0] != Version {
		return fmt.Errorf("nfcpay: %s: %w: answer % X, want protocol version %02X", step, ErrMalformed, data, Version)
	}
	return nil
}

func putRequest(ctx context.Context, tap device.Tap, doc []byte) error {
	n := (len(doc) + ChunkSize - 1) / ChunkSize
	for i := range n {
		chunk := doc[i*ChunkSize : min((i+1)*ChunkSize, len(doc))]
		step := fmt.Sprintf("PUT-REQUEST-CHUNK %d/%d", i+1, n)
		data, sw, err := exchange(ctx, tap, step, PutRequestChunkAPDU(i, i == n-1, chunk))
		if err != nil {
			return err
		}
		if err := expectOK(step, data, sw); err != nil {
			return err
		}
	}
	return nil
}

// txInfo asks GET-TX-INFO until the phone has signed, and checks the size.
func txInfo(ctx context.Context, tap device.Tap) (int, error) {
	const step = "GET-TX-INFO"
	give := time.Now().Add(ReadyTimeout)
	for {
		data, sw, err := exchange(ctx, tap, step, GetTxInfoAPDU())
		if err != nil {
			return 0, err
		}
		switch sw {
		case SWOK:
			if len(data) != txInfoLen {
				return 0, fmt.Errorf("nfcpay: %s: %w: %d bytes, want %d", step, ErrMalformed, len(data), txInfoLen)
			}
			size := binary.BigEndian.Uint32(data)
			switch {
			case size == 0:
				return 0, fmt.Errorf("nfcpay: %s: %w: empty transaction", step, ErrMalformed)
			case size > MaxTx:
				return 0, fmt.Errorf("nfcpay: %s: transaction of %d bytes over %d: %w", step, size, MaxTx, device.ErrTooLarge)
			}
			return int(size), nil
		case SWNotReady:
			if time.Now().After(give) {
				return 0, fmt.Errorf("nfcpay: %s: %w (%v)", step, ErrNotReady, ReadyTimeout)
			}
			if err := clock.Sleep(ctx, ReadyPoll); err != nil {
				return 0, fmt.Errorf("nfcpay: %s: waiting for the signature: %w", step, err)
			}
		case SWDeclined:
			return 0, fmt.Errorf("nfcpay: %s: %w (69 82)", step, ErrDeclined)
		default:
			return 0, fmt.Errorf("nfcpay: %w", &SWError{Step: step, SW: sw})
		}
	}
}

func getTx(ctx context.Context, tap device.Tap, size int) ([]byte, error) {
	n := (size + ChunkSize - 1) / ChunkSize
	tx := make([]byte, 0, size)
	for i := range n {
		step := fmt.Sprintf("GET-TX-CHUNK %d/%d", i+1, n)
		data, sw, err := exchange(ctx, tap, step, GetTxChunkAPDU(i))
		if err != nil {
			return nil, err
		}
		if sw != SWOK {
			if sw == SWDeclined {
				return nil, fmt.Errorf("nfcpay: %s: %w (69 82)", step, ErrDeclined)
			}
			return nil, fmt.Errorf("nfcpay: %w", &SWError{Step: step, SW: sw})
		}
		want := min(ChunkSize, size-len(tx))
		if len(data) != want {
			return nil, fmt.Errorf("nfcpay: %s: %w: %d bytes, want %d", step, ErrMalformed, len(data), want)
		}
		tx = append(tx, data...)
	}
	return tx, nil
}

func expectOK(step string, data []byte, sw uint16) error {
	switch {
	case sw == SWDeclined:
		return fmt.Errorf("nfcpay: %s: %w (69 82)", step, ErrDeclined)
	case sw != SWOK:
		return fmt.Errorf("nfcpay: %w", &SWError{Step: step, SW: sw})
	case len(data) != 0:
		return fmt.Errorf("nfcpay: %s: %w: % X before 90 00, want nothing", step, ErrMalformed, data)
	}
	return nil
}
