// C++ (libc++, no exceptions): counts the words of its arguments with std::map, sorts them by
// count (then alphabetically) in a std::vector and prints `count word` lines through iostream.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  std::map<std::string, int> counts;
  for (int i = 1; i < argc; i++)
    counts[argv[i]]++;
  std::vector<std::pair<std::string, int>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::cout << "distinct words: " << v.size() << "\n";
  for (const auto &[word, n] : v)
    std::cout << n << " " << word << "\n";
  return 0;
}
