// Shared by app.kt and visitor.kt: the Kotlin side of `callback.visit`, built on GC objects.

class Node(val key: Int, val label: String, val left: Node?, val right: Node?)

// A balanced binary search tree of the keys lo..hi.
fun build(lo: Int, hi: Int): Node? {
    if (lo > hi) return null
    val mid = (lo + hi) ushr 1
    return Node(mid, "n$mid", build(lo, mid - 1), build(mid + 1, hi))
}

// Builds a tree of n nodes and walks it with an explicit stack (an ArrayList of Pairs):
// the sum of key * depth + label length over all nodes, wrapping like a u32.
fun visitTree(n: Int): Int {
    val root = build(1, n) ?: return 0
    val stack = ArrayList<Pair<Node, Int>>()
    stack.add(root to 1)
    var sum = 0
    while (stack.isNotEmpty()) {
        val (node, depth) = stack.removeAt(stack.size - 1)
        sum += node.key * depth + node.label.length
        node.left?.let { stack.add(it to depth + 1) }
        node.right?.let { stack.add(it to depth + 1) }
    }
    return sum
}
