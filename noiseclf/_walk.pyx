# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of `segmentation._walk`: the same blocks, read straight off libxml2's node tree.

The Python walk pays for an lxml proxy object, an event tuple and several property calls per
element; here the walk follows libxml2's children/next pointers and only builds Python objects for
what ends up in a Block. Every rule mirrors lxml's own (iterwalk skips comments and PIs together
with the text after them, entity references are skipped subtrees that keep their tail, CDATA is
text, `.text`/`.tail` are runs of text nodes); anything outside the fast path (namespaced or
unusual attributes) is read through lxml itself, so both walks return identical blocks.
"""

from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.object cimport PyObject_GenericSetAttr
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport strcmp, strlen, strstr

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, elementFactory, import_lxml__etree

import dataclasses

from .types import ANCESTOR_BIT, Block, verbatim, visible

import_lxml__etree()

cdef int _MAX_PATH_DEPTH = 40  # path, elements and element_hints stop growing below this depth
cdef Py_ssize_t _TAG_CACHE_SIZE = 4096
cdef tuple _NO_ATTRS = ()
cdef tuple _BLOCK_FIELDS = ("text", "tag", "depth", "path", "heading", "link_chars", "ancestors", "hints",
                            "attrs", "offset", "elements", "element_hints", "verbatim", "column")
cdef object _new = object.__new__
cdef unsigned long long _PRE_BIT = ANCESTOR_BIT["pre"]


cdef class _Tag:
    """What the walk needs to know about a tag name, looked up once per distinct name."""
    cdef unsigned long long ancestor_bit
    cdef int heading
    cdef bint block
    cdef bint anchor
    cdef bint cell


cdef dict _tags = {}
# Bound from noiseclf.segmentation on first use (it imports this module, so not at import time).
cdef object _block_tags = None
cdef object _headings = None
cdef object _hidden_style = None
cdef object _has_word = None
cdef object _colspan = None
cdef dict _hint_cache = None
cdef dict _token_memo = None
cdef object _token_hints = None
cdef Py_ssize_t _memo_size = 0
cdef int _attr_depth = 0
cdef tuple _line_fields = None  # a plain-text block's field values: Block(text="", tag="line")


cdef int _bind() except -1:
    global _block_tags, _headings, _hidden_style, _has_word, _hint_cache, _attr_depth
    global _token_memo, _token_hints, _memo_size, _line_fields, _colspan
    from . import segmentation
    if max(ANCESTOR_BIT.values()) >= 1 << 64:
        raise OverflowError("ANCESTOR_TAGS outgrew the compiled walk's 64-bit ancestor mask")
    if (tuple(f.name for f in dataclasses.fields(Block)) != _BLOCK_FIELDS or hasattr(Block, "__post_init__")
            or not hasattr(Block, "__slots__")):
        raise TypeError("Block's fields changed: update _BLOCK_FIELDS and _Walker._flush in noiseclf/_walk.pyx")
    _headings = segmentation._HEADINGS
    _hidden_style = segmentation._HIDDEN_STYLE.search
    _has_word = segmentation._HAS_WORD.search
    _colspan = segmentation.colspan
    _hint_cache = segmentation._HINT_CACHE
    _token_memo = segmentation._TOKEN_HINTS
    _token_hints = segmentation._token_hints
    _memo_size = segmentation._MEMO_SIZE
    _attr_depth = segmentation._ATTR_DEPTH
    _block_tags = segmentation.BLOCK_TAGS
    line = Block(text="", tag="line")
    _line_fields = tuple(getattr(line, name) for name in _BLOCK_FIELDS)
    return 0


cdef _Tag _tag_info(str tag):
    cdef _Tag info = _tags.get(tag)
    if info is None:
        info = _Tag.__new__(_Tag)
        info.ancestor_bit = ANCESTOR_BIT.get(tag, 0)
        info.heading = _headings.get(tag, 0)
        info.block = tag in _block_tags
        info.anchor = tag == "a"
        info.cell = tag == "td" or tag == "th"
        if len(_tags) >= _TAG_CACHE_SIZE:
            _tags.clear()
        _tags[tag] = info
    return info


cdef tuple _hints_of(tuple key):
    """`segmentation._hint_bits` for an attribute key its memo lacks, without the interpreter: the same
    tokens, bits and memo entries (a token seen for the first time goes through `_token_hints`)."""
    cdef list tokens = " ".join([value for value in key if value]).lower().replace("_", " ").replace("-", " ").split()
    bits = 0
    for token in tokens:
        own = _token_memo.get(token)
        bits |= _token_hints(token) if own is None else own
    if len(_hint_cache) > _memo_size:
        _hint_cache.clear()
    cached = (bits, " ".join(tokens)[:120])
    _hint_cache[key] = cached
    return cached


cdef object _block(tuple values):
    """Block(*values) without the frozen dataclass's __init__, which costs more than the walk itself:
    the same slots filled with the same values (_bind checks the fields still match)."""
    block = _new(Block)
    for i in range(len(_BLOCK_FIELDS)):
        PyObject_GenericSetAttr(block, _BLOCK_FIELDS[i], <object>PyTuple_GET_ITEM(values, i))
    return block


cdef tuple _extended(tuple items, object item):
    """items + (item,) without the intermediate 1-tuple."""
    cdef Py_ssize_t i, n = len(items)
    cdef tuple out = PyTuple_New(n + 1)
    for i in range(n):
        value = <object>PyTuple_GET_ITEM(items, i)
        Py_INCREF(value)
        PyTuple_SET_ITEM(out, i, value)
    Py_INCREF(item)
    PyTuple_SET_ITEM(out, n, item)
    return out


cdef void* _resized(void* p, size_t size) except NULL:
    """PyMem_Realloc that raises MemoryError; on failure `p` stays valid (and is freed by its owner)."""
    cdef void* q = PyMem_Realloc(p, size)
    if q is NULL:
        raise MemoryError()
    return q


cdef inline str _decode(const char* s):
    return PyUnicode_DecodeUTF8(s, strlen(s), NULL)


cdef inline bint _has_invisible(const char* s) noexcept:
    """Whether UTF-8 text holds one of `types.INVISIBLE` (U+00AD, U+200B, U+2060, U+FEFF)."""
    return (strstr(s, b"\xc2\xad") is not NULL or strstr(s, b"\xe2\x80\x8b") is not NULL
            or strstr(s, b"\xe2\x81\xa0") is not NULL or strstr(s, b"\xef\xbb\xbf") is not NULL)


cdef str _tag_name(tree.xmlNode* node):
    """`el.tag` of an element node: its name, or "{namespace}name"."""
    name = _decode(<const char*>node.name)
    if node.ns is not NULL and node.ns.href is not NULL:
        return "{" + _decode(<const char*>node.ns.href) + "}" + name
    return name


cdef inline tree.xmlNode* _walked(tree.xmlNode* node) noexcept:
    """This node or the next sibling iterwalk yields: elements and entity references, not comments/PIs."""
    while node is not NULL and node.type != tree.XML_ELEMENT_NODE and node.type != tree.XML_ENTITY_REF_NODE:
        node = node.next
    return node


cdef inline tree.xmlNode* _text_run(tree.xmlNode* node) noexcept:
    """This node if it is text (or CDATA), skipping XInclude markers; NULL at anything else, as lxml's `.text`."""
    while node is not NULL:
        if node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE:
            return node
        if node.type != tree.XML_XINCLUDE_START and node.type != tree.XML_XINCLUDE_END:
            return NULL
        node = node.next
    return NULL


cdef inline str _read_attribute(const char* name):
    """The attributes the walk reads, as constant keys; None for the others."""
    if strcmp(name, "class") == 0:
        return "class"
    if strcmp(name, "id") == 0:
        return "id"
    if strcmp(name, "role") == 0:
        return "role"
    if strcmp(name, "itemprop") == 0:
        return "itemprop"
    if strcmp(name, "style") == 0:
        return "style"
    return None


cdef inline const char* _plain_value(tree.xmlAttr* attr) noexcept:
    """An attribute's value when it is one text node (always, for parsed HTML); else NULL."""
    cdef tree.xmlNode* child = attr.children
    if child is not NULL and child.next is NULL and child.content is not NULL and (
            child.type == tree.XML_TEXT_NODE or child.type == tree.XML_CDATA_SECTION_NODE):
        return <const char*>child.content
    return NULL


cdef class _Walker:
    """One walk's state. Per open element, a level in parallel arrays; level 0 is the virtual root frame."""

    cdef object drop_tags
    cdef bint hidden
    cdef _Element root
    cdef list blocks, parts, link_parts
    cdef Py_ssize_t offset, serial
    cdef bint has_text
    cdef tree.xmlNode* last_cell  # the table cell counted last, and the column it ends at
    cdef Py_ssize_t last_end
    # per level
    cdef Py_ssize_t capacity
    cdef unsigned long long* anc
    cdef int* heading
    cdef Py_ssize_t* column
    cdef bint* anchor
    cdef bint* skipped
    cdef bint* block
    cdef Py_ssize_t* serials
    cdef list tags, hints, owns, attrs, memo
    cdef Py_ssize_t level
    # levels of the open block elements
    cdef Py_ssize_t* block_levels
    cdef Py_ssize_t n_blocks

    def __cinit__(self, _Element root, drop_tags, bint hidden):
        self.root = root
        self.last_cell = NULL
        self.last_end = 0
        self.drop_tags = drop_tags
        self.hidden = hidden
        self.blocks, self.parts, self.link_parts = [], [], []
        self.tags, self.hints, self.owns, self.attrs = ["body"], [0], [0], [_NO_ATTRS]
        self.memo = [("", (0,), (0,))]
        self._grow(64)
        self.anc[0] = 0
        self.heading[0] = 0
        self.column[0] = 0
        self.anchor[0] = False
        self.skipped[0] = False
        self.block[0] = False
        self.serials[0] = 0
        self.block_levels[0] = 0
        self.n_blocks = 1

    def __dealloc__(self):
        PyMem_Free(self.anc)
        PyMem_Free(self.heading)
        PyMem_Free(self.column)
        PyMem_Free(self.anchor)
        PyMem_Free(self.skipped)
        PyMem_Free(self.block)
        PyMem_Free(self.serials)
        PyMem_Free(self.block_levels)

    cdef int _grow(self, Py_ssize_t capacity) except -1:
        self.anc = <unsigned long long*>_resized(self.anc, capacity * sizeof(unsigned long long))
        self.heading = <int*>_resized(self.heading, capacity * sizeof(int))
        self.column = <Py_ssize_t*>_resized(self.column, capacity * sizeof(Py_ssize_t))
        self.anchor = <bint*>_resized(self.anchor, capacity * sizeof(bint))
        self.skipped = <bint*>_resized(self.skipped, capacity * sizeof(bint))
        self.block = <bint*>_resized(self.block, capacity * sizeof(bint))
        self.serials = <Py_ssize_t*>_resized(self.serials, capacity * sizeof(Py_ssize_t))
        self.block_levels = <Py_ssize_t*>_resized(self.block_levels, capacity * sizeof(Py_ssize_t))
        self.capacity = capacity
        return 0

    cdef int _push(self) except -1:
        """Open a level; its object slots are overwritten by the caller."""
        self.level += 1
        if self.level >= self.capacity:
            self._grow(2 * self.capacity)
        if self.level == len(self.tags):
            self.tags.append(None)
            self.hints.append(None)
            self.owns.append(None)
            self.attrs.append(None)
            self.memo.append(None)
        return 0

    cdef int _push_skipped(self) except -1:
        self._push()
        self.skipped[self.level] = True
        self.block[self.level] = False
        return 0

    cdef int _add_text(self, tree.xmlNode* node) except -1:
        """Append the run of text nodes from `node` (an element's .text or .tail) to the open block."""
        cdef bint link = self.anchor[self.level]
        cdef const char* content
        cdef str text
        node = _text_run(node)
        while node is not NULL:
            content = <const char*>node.content
            if content is not NULL and content[0] != 0:
                text = _decode(content)
                if _has_invisible(content):
                    text = visible(text)
                self.parts.append(text)
                if not self.has_text and not text.isspace():
                    self.has_text = True
                if link:
                    self.link_parts.append(text)
            node = _text_run(node.next)
        return 0

    cdef tuple _context(self, Py_ssize_t level):
        """(path, element ids, element hint bits) of the element at `level`, memoised while it is open;
        below the depth cap they stay those of its ancestor at the cap."""
        cdef tuple context = self.memo[level]
        if context is None:
            if level > _MAX_PATH_DEPTH:
                context = self._context(_MAX_PATH_DEPTH)
            else:
                path, chain, chain_hints = self._context(level - 1)
                context = (path + "/" + self.tags[level], _extended(chain, self.serials[level]),
                           _extended(chain_hints, self.owns[level]))
            self.memo[level] = context
        return context

    cdef int _flush(self) except -1:
        cdef Py_ssize_t level, link_chars = 0
        self.has_text = False
        raw = "".join(self.parts)
        text = " ".join(raw.split())
        if self.link_parts:
            link_chars = len(" ".join("".join(self.link_parts).split()))
        del self.parts[:]
        del self.link_parts[:]
        if text and _has_word(text) is not None:
            level = self.block_levels[self.n_blocks - 1]
            path, chain, chain_hints = self._context(level)
            self.blocks.append(_block((
                text, self.tags[level], level, path, self.heading[level], min(link_chars, len(text)),
                self.anc[level], self.hints[level], " ".join(self.attrs[level]), self.offset, chain,
                chain_hints, verbatim(raw, text) if self.anc[level] & _PRE_BIT else "", self.column[level])))
            self.offset += len(text) + 1
        return 0

    cdef int _cut(self) except -1:
        """At a block element's start or end: emit the text so far, or drop it if it is only whitespace."""
        if self.has_text:
            self._flush()
        else:
            del self.parts[:]
            del self.link_parts[:]
        return 0

    cdef dict _attrib(self, tree.xmlNode* node):
        """The attributes the walk reads (class, id, role, itemprop, style, hidden) as `dict(el.items())`
        holds them, or None where only lxml can say (an attribute with a namespace, a repeated name,
        a value that is not one text node)."""
        cdef tree.xmlAttr* attr = node.properties
        cdef const char* name
        cdef const char* value
        cdef dict attrib = {}
        while attr is not NULL:
            if attr.ns is not NULL:
                return None
            name = <const char*>attr.name
            if strcmp(name, "hidden") == 0:
                attrib["hidden"] = ""
                if not self.hidden:
                    return attrib  # skipped whatever else it has
                attr = attr.next
                continue
            key = _read_attribute(name)
            if key is not None:
                value = _plain_value(attr)
                if value is NULL or key in attrib:
                    return None
                attrib[key] = _decode(value)
            attr = attr.next
        return attrib

    cdef Py_ssize_t _cell_column(self, tree.xmlNode* node) except -1:
        """A table cell's column in its row, as `segmentation._cell_column` counts it: back to the cell counted
        last where it is an earlier sibling, so a wide row costs one pass."""
        cdef Py_ssize_t column = 0
        cdef tree.xmlNode* sibling = node.prev
        while sibling is not NULL:
            if sibling is self.last_cell:
                column += self.last_end
                break
            if sibling.type == tree.XML_ELEMENT_NODE and sibling.ns is NULL and (
                    strcmp(<const char*>sibling.name, "td") == 0 or strcmp(<const char*>sibling.name, "th") == 0):
                column += _colspan(self._colspan_value(sibling))
            sibling = sibling.prev
        self.last_cell = node
        self.last_end = column + _colspan(self._colspan_value(node))
        return column

    cdef object _colspan_value(self, tree.xmlNode* node):
        """A cell's colspan attribute as lxml's `get` reads it, or None."""
        cdef tree.xmlAttr* attr = node.properties
        cdef const char* value
        while attr is not NULL:
            if attr.ns is NULL and strcmp(<const char*>attr.name, "colspan") == 0:
                value = _plain_value(attr)
                if value is NULL:
                    return elementFactory(self.root._doc, node).get("colspan")
                return _decode(value)
            attr = attr.next
        return None

    cdef int _start(self, tree.xmlNode* node) except -1:
        """The 'start' event: open a level for the element, or a skipped one."""
        cdef Py_ssize_t parent = self.level
        cdef _Tag info
        if node.type != tree.XML_ELEMENT_NODE:  # an entity reference: lxml's tag is not a str
            return self._push_skipped()
        tag = _tag_name(node)
        if tag in self.drop_tags:
            return self._push_skipped()
        own = 0
        attrs = self.attrs[parent]
        hints = self.hints[parent]
        if node.properties is not NULL:
            attrib = self._attrib(node)
            if attrib is None:  # namespaced, duplicate or non-text attributes: let lxml read them
                attrib = dict(elementFactory(self.root._doc, node).items())
            style = attrib.get("style")
            if not self.hidden and ((style and _hidden_style(style)) or "hidden" in attrib):
                return self._push_skipped()
            if attrib:  # most elements' attributes were seen before, on this page or an earlier one
                key = (attrib.get("class"), attrib.get("id"), attrib.get("role"), attrib.get("itemprop"))
                cached = _hint_cache.get(key)
                own, tokens = _hints_of(key) if cached is None else cached
                if own:
                    hints = hints | own
                if tokens:
                    attrs = (attrs + (tokens,))[-_attr_depth:]
        info = _tag_info(tag)
        self.serial += 1
        self._push()
        level = self.level
        self.skipped[level] = False
        self.anc[level] = self.anc[parent] | info.ancestor_bit
        self.heading[level] = info.heading if info.heading else self.heading[parent]
        self.column[level] = self._cell_column(node) if info.cell else self.column[parent]
        self.anchor[level] = self.anchor[parent] or info.anchor
        self.block[level] = info.block
        self.serials[level] = self.serial
        self.tags[level] = tag
        self.hints[level] = hints
        self.owns[level] = own
        self.attrs[level] = attrs
        self.memo[level] = None
        if info.block:
            self._cut()
            self.block_levels[self.n_blocks] = level
            self.n_blocks += 1
        self._add_text(node.children)
        return 0

    cdef int _end(self, tree.xmlNode* node) except -1:
        """The 'end' event: close the element's level, then take its tail."""
        if self.block[self.level]:
            self._cut()
            self.n_blocks -= 1
        self.level -= 1
        self._add_text(node.next)
        return 0

    cdef list run(self):
        cdef tree.xmlNode* top = self.root._c_node
        cdef tree.xmlNode* node = top
        cdef tree.xmlNode* child
        self._start(node)
        while True:
            child = NULL if self.skipped[self.level] else _walked(node.children)
            if child is not NULL:
                node = child
                self._start(node)
                continue
            while True:  # back off through the ancestors to the next sibling
                self._end(node)
                if node is top:
                    if self.has_text:
                        self._flush()
                    return self.blocks
                child = _walked(node.next)
                if child is not NULL:
                    node = child
                    self._start(node)
                    break
                node = node.parent


def walk(_Element root not None, drop_tags, bint hidden=False) -> list:
    """Cut the tree under `root` into blocks, exactly as `segmentation._walk(root, drop_tags, hidden)` does;
    `drop_tags` (a frozenset of tag names) are skipped with their subtrees, and hidden elements unless `hidden`."""
    if _token_hints is None:
        _bind()
    return _Walker(root, drop_tags, hidden).run()


def line_blocks(list pieces) -> list:
    """The blocks of plain-text `pieces`, exactly as `segmentation._line_blocks(pieces)` cuts them: each piece's
    white space runs as one space, pieces without a word character left out, offsets counted along."""
    if _token_hints is None:
        _bind()
    cdef list blocks = []
    cdef Py_ssize_t offset = 0
    cdef str piece, clean
    cdef tuple head = _line_fields[1:9], tail = _line_fields[10:]
    for piece in pieces:
        clean = " ".join(piece.split())
        if clean and _has_word(clean) is not None:
            blocks.append(_block((clean,) + head + (offset,) + tail))
            offset += len(clean) + 1
    return blocks
