//go:build !wasip1

package gateway

// Outside wasip1 there is no Wasm host: Register only records the plugin, so that a plugin's
// package main builds (and vets) on any GOOS. Tests drive plugins with package sdktest.

var registered Plugin

// Register declares the plugin of this module. Call it once, from an init function of package
// main: a c-shared module runs package initialisers at _initialize but never calls main.
func Register(p Plugin) {
	if registered != nil {
		panic("gateway: Register called twice")
	}
	registered = p
}

// Registered returns the plugin given to Register (nil before).
func Registered() Plugin { return registered }
