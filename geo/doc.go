// Package geo is OneMap's vocabulary: the layer catalogue, the domain's
// enumerations, the Error type with its codes, and pure coordinate maths.
// It does no I/O and imports nothing heavier than the standard library.
package geo
