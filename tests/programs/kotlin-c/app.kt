// The Kotlin command of kotlin-c (world `kotlin-app`): calls the C component's `weld:demo/text`
// through hand-written canonical-ABI lowering, and checks `walk` (C calling the Kotlin visitor
// component back) against the same computation done here (tree.kt is compiled into both).
@file:OptIn(UnsafeWasmMemoryApi::class, kotlin.wasm.ExperimentalWasmInterop::class)

import kotlin.wasm.WasmExport
import kotlin.wasm.WasmImport
import kotlin.wasm.unsafe.MemoryAllocator
import kotlin.wasm.unsafe.Pointer
import kotlin.wasm.unsafe.UnsafeWasmMemoryApi
import kotlin.wasm.unsafe.withScopedMemoryAllocator

// Lowered imports (core signatures of the canonical ABI, wasm32): lists and strings are
// (ptr, len) in our memory; a result that is a list/string is written to `ret` as {ptr, len},
// its contents allocated in our memory through cabi_import_realloc below.
@WasmImport("weld:demo/text", "checksum")
private external fun rawChecksum(ptr: Int, len: Int): Int

@WasmImport("weld:demo/text", "shout")
private external fun rawShout(ptr: Int, len: Int, ret: Int)

@WasmImport("weld:demo/text", "words")
private external fun rawWords(ptr: Int, len: Int, ret: Int)

@WasmImport("weld:demo/text", "walk")
private external fun rawWalk(ptr: Int, len: Int, ret: Int)

// The allocator of the scope that is making an import call. The realloc that lowering calls to
// place results in our memory allocates from it, so results live until that scope ends.
private var callAllocator: MemoryAllocator? = null

// Exported as `cabi_import_realloc`, not `cabi_realloc`: wit-component then uses it only for
// lowering imports, and the preview1 adapter gets its (never freed) state from `memory.grow`
// instead of from this scoped allocator.
@WasmExport("cabi_import_realloc")
fun cabiImportRealloc(oldPtr: Int, oldSize: Int, align: Int, newSize: Int): Int {
    val allocator = callAllocator ?: throw IllegalStateException("realloc outside an import call")
    if (newSize == 0) return align
    check(align <= 8) // the scoped allocator aligns to 8
    val p = allocator.allocate(newSize)
    for (i in 0 until minOf(oldSize, newSize)) (p + i).storeByte(Pointer(oldPtr.toUInt() + i.toUInt()).loadByte())
    return p.address.toInt()
}

private inline fun <T> importCall(block: (MemoryAllocator) -> T): T =
    withScopedMemoryAllocator { allocator ->
        callAllocator = allocator
        try {
            block(allocator)
        } finally {
            callAllocator = null
        }
    }

private fun Pointer.at(offset: Int): Pointer = this + offset
private fun addr(p: Int): Pointer = Pointer(p.toUInt())

private fun MemoryAllocator.bytes(data: ByteArray): Pointer {
    val p = allocate(data.size)
    for (i in data.indices) p.at(i).storeByte(data[i])
    return p
}

private fun readBytes(ptr: Int, len: Int): ByteArray = ByteArray(len) { addr(ptr).at(it).loadByte() }
private fun readString(ptr: Int, len: Int): String = readBytes(ptr, len).decodeToString()

fun checksum(data: ByteArray): UInt = importCall { a ->
    rawChecksum(a.bytes(data).address.toInt(), data.size).toUInt()
}

fun shout(s: String): String = importCall { a ->
    val utf8 = s.encodeToByteArray()
    val ret = a.allocate(8)
    rawShout(a.bytes(utf8).address.toInt(), utf8.size, ret.address.toInt())
    readString(ret.loadInt(), ret.at(4).loadInt())
}

fun words(s: String): List<String> = importCall { a ->
    val utf8 = s.encodeToByteArray()
    val ret = a.allocate(8)
    rawWords(a.bytes(utf8).address.toInt(), utf8.size, ret.address.toInt())
    val list = addr(ret.loadInt())
    List(ret.at(4).loadInt()) { i -> readString(list.at(8 * i).loadInt(), list.at(8 * i + 4).loadInt()) }
}

fun walk(sizes: IntArray): IntArray = importCall { a ->
    val args = a.allocate(4 * sizes.size)
    for (i in sizes.indices) args.at(4 * i).storeInt(sizes[i])
    val ret = a.allocate(8)
    rawWalk(args.address.toInt(), sizes.size, ret.address.toInt())
    val list = addr(ret.loadInt())
    IntArray(ret.at(4).loadInt()) { i -> list.at(4 * i).loadInt() }
}

// Kotlin's scoped allocators assume they own linear memory from address 0 up to memory.size,
// but the WASI preview1 adapter takes pages of the same memory with memory.grow (its stack when
// it is instantiated, its state at the first WASI call). Scopes that grow past ~64 KiB overwrite
// them. So: make the first WASI call (println), then keep one outer scope open for the whole
// program whose first allocation covers everything below RESERVED, adapter pages included;
// every later scope (println's, importCall's) is nested in it and lies above.
private const val RESERVED = 1 shl 20

fun main() {
    println("Kotlin/Wasm (GC) <-> C (linear memory) through the component model")
    withScopedMemoryAllocator { outer ->
        outer.allocate(RESERVED)
        demo()
    }
}

fun demo() {

    val hello = "Hello, weld!"
    println("checksum(\"$hello\") = 0x${checksum(hello.encodeToByteArray()).toString(16).padStart(8, '0')}")
    println("checksum([]) = ${checksum(ByteArray(0))}")
    val big = ByteArray(300_000) { (it * 31 + 7).toByte() }
    println("checksum(300000 bytes) = ${checksum(big)}")

    for (s in listOf("hello from kotlin", "grüße, wörld", "")) println("shout(\"$s\") = \"${shout(s)}\"")
    val long = (1..2000).joinToString(" ") { "w$it" }
    val loud = shout(long)
    println("shout(${long.length} chars) = ${loud.length} chars, ends \"${loud.takeLast(12)}\"")

    val ws = words("  the quick  brown fox   jumps over the lazy dög ")
    println("words(...) = ${ws.size} ${ws.joinToString(prefix = "[", postfix = "]") { "\"$it\"" }}")
    println("words(\"\") = ${words("")}")
    val many = words(long)
    println("words(${long.length} chars) = ${many.size} words, last ${many.last()}, sum of lengths ${many.sumOf { it.length }}")

    // Kotlin -> C -> Kotlin: C's walk calls the Kotlin visitor's callback.visit for each size.
    val sizes = intArrayOf(0, 1, 2, 3, 10, 100, 1000, 10_000, 100_000)
    val visited = walk(sizes)
    for (i in sizes.indices) {
        val local = visitTree(sizes[i])
        println("walk: visit(${sizes[i]}) = ${visited[i].toUInt()} (local ${local.toUInt()}, ${if (local == visited[i]) "same" else "DIFFERENT"})")
    }
    println("walk([]) = ${walk(IntArray(0)).toList()}")

    var total = 0L
    repeat(200) { round ->
        val r = walk(IntArray(5) { round * 5 + it })
        total += r.sumOf { it.toUInt().toLong() }
    }
    println("walk x200 (visit(0..999)): total ${total}")
    println("done")
}
