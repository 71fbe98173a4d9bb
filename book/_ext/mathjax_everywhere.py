"""Load MathJax on every page, not only on pages whose body has maths: the sidebar's chapter
titles hold maths too (e.g. "Soups as $f_\\text{large}$"), and would show raw TeX elsewhere."""


def setup(app):
    app.set_html_assets_policy("always")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
