from setuptools import find_packages, setup

setup(
    name="ncconnect",
    version="0.1.0",
    description="NC Connect: the identity federation proxy of New Caledonia, built on SATOSA",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["idp", "idp.*", "plugins", "plugins.*"]),
    package_data={"idp": ["templates/*.html", "templates/*/*.html", "static/*", "places/*.tsv",
                          "testbed/ldap/*"],
                  "idp.demo": ["templates/*.html", "static/*"]},
    install_requires=[
        "satosa>=8.5,<9",
        "pysaml2>=7.5,<8",
        "pyop>=3.4,<4",
        "oic>=1.7,<2",
        "cryptojwt>=1.9,<2",
        "ldap3>=2.9,<3",
        "redis>=5,<9",
        # redis-py parses replies with hiredis (C) when it is installed: a fifth of the
        # redis client's CPU per login (bench/profile.py).
        "hiredis>=3,<4",
        "prometheus-client>=0.20,<1",  # /metrics, multiprocess under gunicorn (idp/metrics)
        "jinja2>=3.1,<4",
        "pydantic>=2.7,<3",
        "pyyaml>=6,<7",
        "click>=8.1,<9",
        "cryptography>=42",
        "gunicorn>=22",
        "requests>=2.31,<3",
        "defusedxml>=0.7,<1",
        "werkzeug>=3,<4",
        "beautifulsoup4>=4.12",
        "pycountry>=24.6",  # country names in French and English (idp/places)
        # In-process XML signatures and encryption (plugins/saml2/crypto). Pinned together:
        # xmlsec's wheel bundles libxmlsec1 1.3.9 and libxml2 2.14.6, and refuses to load
        # next to an lxml built on another libxml2 ("lxml & xmlsec libxml2 library version
        # mismatch"); lxml 6.2.0's wheel bundles that same libxml2 2.14.6.
        "xmlsec==1.3.17",
        "lxml==6.2.0",
    ],
    extras_require={
        "test": [
            "pytest>=8,<10",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "beautifulsoup4>=4.12",
            "playwright>=1.60,<2",  # drives Debian's chromium (tests/browser)
            "ruff>=0.6",
        ],
    },
    entry_points={"console_scripts": ["ncconnect=idp.cli:main"]},
)
