// The Kotlin component that C calls back into: exports `weld:demo/callback` (world
// `kotlin-visitor`). The export name is the canonical-ABI core name that
// `wasm-tools component new` lifts to the component export `weld:demo/callback.visit`.
@file:OptIn(kotlin.wasm.ExperimentalWasmInterop::class)

import kotlin.wasm.WasmExport

private var calls = 0

@WasmExport("weld:demo/callback#visit")
fun visit(n: Int): Int {
    calls++
    return visitTree(n)
}
