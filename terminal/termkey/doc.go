// Package termkey keeps the terminal's own secp256k1 key, the one that signs
// every payment request so that a payer's phone can check the request came
// from this terminal and was not altered on the way.
//
// The key lives in one small file: 64 hexadecimal digits on one line (a "0x"
// prefix and surrounding whitespace are tolerated when reading). The terminal's
// address, derived from it, is what a merchant or fleet manager pins and what
// payer apps compare the signer against.
//
// [LoadOrCreate] is called once at start-up:
//
//   - If the file exists it must be a regular file, at most a few KiB, with no
//     permission bits for group or others (mode & 0077 == 0): a key anyone on
//     the box can read is not this terminal's alone any more, so the terminal
//     refuses to start and says to run chmod 600 rather than carry on quietly.
//   - If it does not exist, a new key is generated from crypto/rand, written to
//     a temporary file in the same directory with mode 0600, fsynced, and
//     published under the final name with a hard link, which, like O_EXCL,
//     fails if the name already exists: two daemons starting at once cannot
//     both create a key, and the loser loads the winner's. The directory is
//     then fsynced so the new name survives a power cut. A reader never sees a
//     partly written key file.
//   - The parent directory is not created: a missing directory usually means a
//     wrong path or an unmounted volume, and a fresh key there would silently
//     give the terminal a new identity.
//
// Errors wrap [ErrLoosePermissions], [ErrMalformed], or the underlying
// fs error (fs.ErrNotExist for a missing directory) and always name the path.
package termkey
