.PHONY: fuzz

FUZZTIME ?= 30s

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzCheck$$' -fuzztime=$(FUZZTIME) ./terminal/check
	$(GO) test -run='^$$' -fuzz='^FuzzParseAmount$$' -fuzztime=$(FUZZTIME) ./terminal/asset
