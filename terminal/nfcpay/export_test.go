package nfcpay

// CheckNdefJS is checkNdefJS for the wire tests of package nfcpay_test.
var CheckNdefJS = checkNdefJS
