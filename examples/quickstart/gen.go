package main

//go:generate go run ./internal/gensample
