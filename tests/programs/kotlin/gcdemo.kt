// gcdemo: a Kotlin/Wasm (WasmGC + exceptions) test program for weld.
// Deterministic output; allocates several GB in total over the run with a small live set.

class Node(val left: Node?, val right: Node?, val value: Int)

fun build(depth: Int, seed: Int): Node =
    if (depth == 0) Node(null, null, seed)
    else Node(build(depth - 1, seed * 2 + 1), build(depth - 1, seed * 2 + 2), seed)

fun count(n: Node?): Int = if (n == null) 0 else 1 + count(n.left) + count(n.right)

fun sum(n: Node?): Long = if (n == null) 0L else n.value.toLong() + sum(n.left) + sum(n.right)

open class DemoException(message: String, val code: Int, cause: Throwable? = null) : Exception(message, cause)
class ParseError(val input: String) : DemoException("cannot parse '$input'", 1)
class RangeError(val v: Int, cause: Throwable? = null) : DemoException("out of range: $v", 2, cause)

data class Person(val name: String, val age: Int, val city: String)

class Record(val id: Int, val label: String, val data: IntArray, val tags: List<String>)

fun parse(s: String): Int {
    var r = 0
    if (s.isEmpty()) throw ParseError(s)
    for (c in s) {
        if (c !in '0'..'9') throw ParseError(s)
        r = r * 10 + (c - '0')
    }
    return r
}

fun checked(s: String): Int {
    try {
        val v = parse(s)
        if (v > 1000) throw RangeError(v)
        return v
    } catch (e: ParseError) {
        throw RangeError(-1, e)
    }
}

val log = ArrayList<String>()

fun exceptions() {
    println("== exceptions")
    for (s in listOf("42", "x7", "5000", "", "999")) {
        try {
            try {
                val v = checked(s)
                println("ok $s -> $v")
            } finally {
                log.add("finally($s)")
            }
        } catch (e: RangeError) {
            val c = e.cause
            println("RangeError code=${e.code} msg=${e.message} cause=${c?.let { it::class.simpleName + ": " + it.message }}")
        } catch (e: DemoException) {
            println("DemoException ${e.message}")
        }
    }
    // rethrow through several frames, with nested finally blocks
    var depth = 0
    fun dive(n: Int): Int {
        try {
            depth++
            if (n == 0) throw IllegalStateException("bottom reached")
            return dive(n - 1) + 1
        } finally {
            depth--
        }
    }
    try {
        dive(25)
    } catch (e: IllegalStateException) {
        println("caught ${e::class.simpleName}: ${e.message}, depth back to $depth")
    }
    try {
        try {
            listOf(1, 2, 3)[7]
        } catch (e: IndexOutOfBoundsException) {
            println("index error caught, rethrowing as wrapped")
            throw RuntimeException("wrapped", e)
        }
    } catch (e: RuntimeException) {
        println("outer caught ${e.message} (cause is IOOBE: ${e.cause is IndexOutOfBoundsException})")
    }
    val r = runCatching { 10 / (log.size - log.size) }
    println("runCatching: ${r.exceptionOrNull()?.let { it::class.simpleName }}")
    var thrown = 0
    for (i in 0 until 30_000) {
        try {
            if (i % 3 == 0) throw DemoException("e$i", i) else thrown += 0
        } catch (e: DemoException) {
            thrown += e.code % 7
        }
    }
    println("many throws: $thrown, finally log: ${log.joinToString(",")}")
}

fun collections() {
    println("== collections")
    val people = arrayListOf(
        Person("Ada", 36, "London"), Person("Linus", 28, "Helsinki"), Person("Grace", 45, "Arlington"),
        Person("Alan", 41, "London"), Person("Barbara", 36, "Boston"), Person("Ken", 52, "Berkeley"),
    )
    people.sortWith(compareBy<Person> { it.age }.thenByDescending { it.name })
    println(people.joinToString(" | ") { "${it.name}(${it.age})" })
    val byCity = LinkedHashMap<String, MutableList<String>>()
    for (p in people) byCity.getOrPut(p.city) { ArrayList() }.add(p.name)
    println(byCity)
    val words = HashMap<String, Int>()
    val text = "the quick brown fox jumps over the lazy dog the fox again and again"
    for (w in text.split(" ")) words[w] = (words[w] ?: 0) + 1
    val top = words.entries.sortedWith(compareByDescending<Map.Entry<String, Int>> { it.value }.thenBy { it.key })
    println(top.take(5).joinToString(prefix = "[", postfix = "]") { "${it.key}=${it.value}" })
    val sb = StringBuilder()
    for (i in 1..12) {
        sb.append(i.toString().padStart(3, '0')).append(if (i % 4 == 0) ";" else ",")
    }
    sb.append(" hex=").append(48879.toString(16)).append(" bin=").append(37.toString(2))
    println(sb.toString().uppercase())
    val squares = (1..10).map { it * it }.filter { it % 2 == 1 }
    println("odd squares ${squares} sum=${squares.sum()} rev=${squares.reversed().joinToString("-")}")
    println("pi~" + (355.0 / 113.0).toString().take(8) + " " + 1e-3 + " " + Long.MAX_VALUE + " " + (-7 % 3))
}

fun main() {
    println("gcdemo start")
    // Long-lived objects: survive every collection of the run.
    val keep = LinkedHashMap<String, Record>()
    for (i in 0 until 2000) {
        keep["key-$i"] = Record(i, "rec#" + i.toString(16), IntArray(16) { it * i }, listOf("t${i % 7}", "u${i % 11}"))
    }
    val keepTree = build(12, 1)
    val keepSum0 = keep.values.fold(0L) { a, r -> a + r.data.sum() + r.label.length + r.tags[1].length }
    println("kept ${keep.size} records, checksum $keepSum0, tree ${count(keepTree)} nodes sum ${sum(keepTree)}")

    exceptions()
    collections()

    println("== allocation")
    var total = 0L
    var arrayWords = 0L
    val ring = arrayOfNulls<Node>(4) // medium-lived trees, replaced round-robin
    for (round in 0 until 24) {
        var nodes = 0L
        var s = 0L
        for (k in 0 until 24) {
            val t = build(16, round + k)
            nodes += count(t)
            s += t.left!!.value + t.right!!.right!!.value
            ring[(round * 24 + k) % ring.size] = build(12, round * 24 + k)
        }
        var strLen = 0L
        var lists = 0L
        for (i in 0 until 20000) {
            val str = "round " + round + " item " + i + " " + (i * 31).toString(36)
            strLen += str.length
            val l = ArrayList<Int>(8)
            for (j in 0 until 8) l.add(i + j)
            lists += l.last()
        }
        var arr = 0L
        for (i in 0 until 1000) {
            val a = IntArray(16384)
            a[i] = i + round
            a[16383 - i] = i
            arr += a[i] + a[16383 - i] + a.size
            arrayWords += a.size
        }
        total += nodes
        if (round % 4 == 3) {
            println("round $round: nodes $nodes sum $s strings $strLen lists $lists arrays $arr ring ${ring.sumOf { sum(it) }}")
        }
    }
    println("total tree nodes allocated: $total, int array elements: $arrayWords")

    println("== verify long-lived")
    var ok = true
    for (i in 0 until 2000) {
        val r = keep["key-$i"]!!
        if (r.id != i || r.label != "rec#" + i.toString(16) || r.data[15] != 15 * i || r.tags[0] != "t${i % 7}") ok = false
    }
    val keepSum1 = keep.values.fold(0L) { a, r -> a + r.data.sum() + r.label.length + r.tags[1].length }
    println("records ok=$ok checksum $keepSum1 same=${keepSum0 == keepSum1} tree ${count(keepTree)} nodes sum ${sum(keepTree)}")
    println("first=${keep.keys.first()} last=${keep.keys.last()}")
    println("gcdemo done")
}
