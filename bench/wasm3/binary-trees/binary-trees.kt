// The Computer Language Benchmarks Game "binary-trees", Kotlin/Wasm (WASI) edition for weld's
// Wasm 3.0 benchmarks. Every TreeNode is a Wasm GC struct; the allocation pattern is the
// benchmark: many short-lived complete binary trees next to one long-lived tree.
// Single-threaded and deterministic; the maximum depth is fixed (no argument parsing).

private const val MIN_DEPTH = 4
private const val MAX_DEPTH = 18

private class TreeNode(val left: TreeNode?, val right: TreeNode?) {
    fun check(): Int {
        val l = left
        val r = right
        return if (l == null || r == null) 1 else 1 + l.check() + r.check()
    }
}

private fun bottomUpTree(depth: Int): TreeNode =
    if (depth > 0) TreeNode(bottomUpTree(depth - 1), bottomUpTree(depth - 1)) else TreeNode(null, null)

fun main() {
    val maxDepth = if (MIN_DEPTH + 2 > MAX_DEPTH) MIN_DEPTH + 2 else MAX_DEPTH
    val stretchDepth = maxDepth + 1
    println("stretch tree of depth $stretchDepth\t check: ${bottomUpTree(stretchDepth).check()}")

    val longLivedTree = bottomUpTree(maxDepth)

    var depth = MIN_DEPTH
    while (depth <= maxDepth) {
        val iterations = 1 shl (maxDepth - depth + MIN_DEPTH)
        var check = 0
        for (i in 1..iterations) {
            check += bottomUpTree(depth).check()
        }
        println("$iterations\t trees of depth $depth\t check: $check")
        depth += 2
    }
    println("long lived tree of depth $maxDepth\t check: ${longLivedTree.check()}")
}
