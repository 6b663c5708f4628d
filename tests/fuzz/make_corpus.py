#!/usr/bin/env python3
"""Writes the generated seed corpora of the text fuzz targets (tests/fuzz/corpus/<target>/seed_*)
and the dictionaries (tests/fuzz/dict/<target>.dict). No MovieLens data: every line is made up
here in MovieLens' formats. The model-file seeds come from make_model_seeds.cpp.

Usage: tests/fuzz/make_corpus.py   (rewrites the seed_* files; leaves regression inputs alone)
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = b"\n~~~\n"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def delimited():
    cases = {
        "100k": b"\x00\x00" + b"1\t10\t3\t881250949\n2\t10\t4\t881250950\n1\t11\t5\t1\n",
        "1m": b"\x01\x00" + b"1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978300761\n",
        "10m": b"\x02\x00" + b"1::122::5::838985046\n1::185::4.5::838983525\n3::122::0.5::1\n",
        "csv": b"\x03\x00" + b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n",
        "custom_quoted": b"\x04\x18" + b'user,item,rating\n"1",2,3.5\n"2","3",1\n',
        "custom_order": b"\x04\x61" + b"10\t1\t2.5\t7\n11\t1\t3\t8\n",
        "whitespace": b"\x05\x00" + b"1 2 3\n  4   5 2.5\n\n",
        "crlf_bom": b"\x00\x00" + b"\xef\xbb\xbf1\t10\t3\t5\r\n2\t11\t4\t6\r\n",
        "bad_number": b"\x00\x00" + b"1\t10\tx\t5\n",
        "duplicate": b"\x00\x00" + b"1\t10\t3\t5\n1\t10\t4\t6\n",
        "huge": b"\x00\x00" + b"99999999999999999999\t10\t3\t5\n1\t-4\t1e400\t5\n",
        "nan_inf": b"\x05\x00" + b"1 2 nan\n1 3 inf\n",
        "short": b"\x01\x00" + b"1::2\n",
        "empty": b"\x03\x00",
    }
    for k, v in cases.items():
        write("delimited", k, v)


def movielens():
    genres = b"unknown|0\nAction|1\nComedy|2\n"
    uitem = b"10|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n11|Caf\xe9 (1996)|||http://y|0|1|1\n"
    udata = b"1\t10\t3\t881250949\n2\t10\t4\t881250950\n1\t11\t5\t1\n"
    uuser = b"1|24|M|technician|85711\n2|53|F|other|94043\n"
    write("movielens", "100k", b"\x00" + SEP.join([udata, uitem, genres, uuser]))
    write("movielens", "100k_bad_flag", b"\x00" + SEP.join([udata, uitem.replace(b"|0|0|1", b"|0|2|1"), genres, uuser]))
    movies = b"10::GoldenEye (1995)::Action|Adventure|Thriller\n20::Caf\xc3\xa9 (1999)::Comedy\n"
    write("movielens", "1m", b"\x01" + SEP.join([b"1::10::5::978300760\n2::20::3::978300761\n", movies,
                                                  b"1::F::1::10::48067\n2::M::56::16::70072\n"]))
    write("movielens", "10m", b"\x02" + SEP.join([b"1::10::4.5::838985046\n2::20::0.5::1\n", movies]))
    write("movielens", "csv", b"\x03" + SEP.join([
        b"userId,movieId,rating,timestamp\n1,10,4.0,964982703\n2,20,3.5,1\n",
        b'movieId,title,genres\n10,"GoldenEye, The (1995)",Action|Adventure\n20,"A ""quoted"" one",(no genres listed)\n']))
    write("movielens", "csv_unrated_item", b"\x03" + SEP.join([
        b"userId,movieId,rating,timestamp\n1,99,4.0,1\n", b"movieId,title,genres\n10,T,Action\n"]))
    write("movielens", "split", b"\x04" + SEP.join([b"1\t10\t3\t5\n2\t10\t4\t6\n", b"1\t11\t5\t7\n"]))
    write("movielens", "split_overlap", b"\x04" + SEP.join([b"1\t10\t3\t5\n", b"1\t10\t3\t5\n"]))


def interactions():
    strings = b"user,item,rating,timestamp\nu_1,i_1,4,100\nu_1,i_2,3.5,101\nu_2,i_1,5,102\n"
    items = b"item_id,title\ni_1,First\ni_2,\"Second, quoted\"\n"
    write("interactions", "strings_header", b"\x00\x00" + strings + SEP + items)
    write("interactions", "named_columns", b"\x21\x00" + strings + SEP + items)
    write("interactions", "implicit_tsv", b"\x42\x00" + b"i_1\tu_1\ni_2\tu_1\ni_1\tu_2\n" + SEP + b"i_1\tOne\ni_2\tTwo\n")
    write("interactions", "quoted_semicolon", b"\x03\x00" + b'who;movie;stars\n"Smith, J.";"i ""1""";4\n"Doe";i2;3\n')
    write("interactions", "int_ids_no_header", b"\x11\x0a" + b"1,10,3\n2,10,4\n1,11,5\n")
    write("interactions", "comments_dups", b"\x00\x52" + b"# a comment\nuser,item,rating\na,b,1\na,b,3\n")
    write("interactions", "timestamps", b"\x60\x00" + b"u,i,r,t\n1,2,3,4\n5,6,7,8\n")
    write("interactions", "whitespace", b"\x04\x00" + b"1 2 3\n4   5 2.5\n")
    write("interactions", "duplicate_error", b"\x00\x00" + b"a,b,1\na,b,2\n")
    write("interactions", "bad_rating", b"\x00\x00" + b"a,b,x\n")
    write("interactions", "header_only", b"\x08\x00" + b"user,item,rating\n")


def items():
    write("items", "100k", b"\x00" + b"10|Toy Story (1995)|01-Jan-1995||http://x|0|1\n11|Caf\xe9|||u|1|0\n" + SEP +
          b"unknown|0\nAction|1\n")
    write("items", "dat", b"\x01" + b"10::GoldenEye (1995)::Action|Adventure\n11::Caf\xe9::Comedy\n")
    write("items", "csv", b"\x02" + b'movieId,title,genres\n10,"A, B",Action\n11,C,(no genres listed)\n')
    write("items", "titles", b"\x03" + b"item,title\na,Alpha\nb,\"Beta, quoted\"\n10,Ten\ni_1,One\n")
    write("items", "titles_tsv", b"\x03" + b"a\tAlpha\nCaf\xc3\xa9\tLatin\n")
    write("items", "duplicate_id", b"\x01" + b"10::A::x\n10::B::y\n")
    write("items", "bad_utf8", b"\x02" + b"movieId,title,genres\n10,\xff\xfe,Action\n")


def heldout():
    rows = []
    for u in range(1, 7):
        for i in range(10, 18):
            if (u * 7 + i) % 3 != 0:
                rows.append((u, i, (1 + (u + i) % 5) * 0.5 + 0.5))
    write("heldout", "two", "".join("%d\t%d\t%g\n" % r for r in rows[:2]).encode())
    write("heldout", "spaces", "".join("%d %d %g\n" % r for r in rows[3:8]).encode())
    write("heldout", "all", "".join("%d\t%d\t%g\n" % r for r in rows).encode())
    write("heldout", "wrong_rating", b"1\t10\t5\n")
    write("heldout", "unknown_user", b"99\t10\t1.5\n")
    write("heldout", "twice", ("%d\t%d\t%g\n" % rows[0]).encode() * 2)
    write("heldout", "fields", b"1\t10\n")


def cli_args():
    """Command lines of the cfnet tool, one argument per line (fuzz_cli_args.cpp)."""
    lines = {
        "train_ae": "train --model autoencoder --data d --split per-user --epochs 3 --hidden 64,32,64 --out m.cfnet",
        "train_autorec": "train --model autoencoder --preset autorec --l2-lambda 50 --residual --data d --split u1 --out m",
        "train_ncf": "train --model ncf --preset accurate --arch neumf --embedding-dim 8 --data d --split u1 --out m",
        "train_ncf_implicit": "train --model ncf --preset implicit --negatives 4 --data f.csv --columns 1,2 --split per-user --out m",
        "train_ease": "train --model ease --lambdas 100,400 --max-items 100 --memory-gib 0.5 --data d --split u1 --out m",
        "train_vae": "train --model mult-vae --anneal-cap 0.2 --latent 20 --validation-fraction 0.1 --patience 3 --data d --split u1 --out m",
        "train_wrong_model_flag": "train --model ease --epochs 2 --data d --split u1 --out m",
        "train_file_layout": "train --model ncf --data f.csv --columns user,item,rating --sep ; --header yes --items t.csv --item-columns 1,2 --split per-user --out m",
        "train_history": "train --model autoencoder --data d --split u1 --out m --history h.txt",
        "tune": "tune --model autoencoder --data d --split u1 --param hidden=64 --param learning_rate=0.001,0.003 --folds 2 --out m",
        "tune_ncf": "tune --model ncf --data d --split u1 --param l2=0,0.001 --objective ndcg --k 5 --random 3 --out m",
        "evaluate": "evaluate --model-file m --data d --split u1 --seed 7 --k 10 --threshold 4 --json e.json",
        "recommend": "recommend --model-file m --data d --user 7 --k 5 --include-seen",
        "recommend_both": "recommend --model-file m --data d --user 7 --ratings r.txt",
        "info": "info m --full --json i.json",
        "help": "train --help",
        "version": "--version",
    }
    for k, v in lines.items():
        write("cli_args", k, "\n".join(v.split(" ")).encode())


def cli_words():
    """The tool's option names, subcommands and choices, read from tools/cfnet/*.hpp."""
    import re
    tool = os.path.join(HERE, "..", "..", "tools", "cfnet")
    src = "".join(open(os.path.join(tool, f)).read() for f in sorted(os.listdir(tool)) if f.endswith(".hpp"))
    words = set(re.findall(r'"(--[a-z0-9-]+)', src))
    words |= set(re.findall(r'IsMember\(\{([^}]*)\}', src) and
                 [w for m in re.findall(r'IsMember\(\{([^}]*)\}', src) for w in re.findall(r'"([^"]+)"', m)])
    words |= {"train", "tune", "evaluate", "recommend", "info", "-q", "--help", "-h", "=", ",", "0", "-1", "1e400",
              "nan", "4294967296", "relu", "lbfgs", "tab", "whitespace", "user,item,rating", "hidden=", "epochs=",
              "l2=", "learning_rate=", "options.l2=", "\n"}
    return sorted(w.encode() for w in words)


DICTS = {
    "text": [b"\t", b"::", b",", b";", b"|", b'"', b"'", b"\n", b"\r\n", b" ", b"#", SEP, b"nan", b"inf", b"-inf",
             b"-1", b"0.5", b"4294967296", b"18446744073709551616", b"9223372036854775808", b"1e308", b"1e-320",
             b"\xef\xbb\xbf", b"\xc3\xa9", b"\xe9", b"user", b"item", b"rating", b"timestamp", b"userId", b"movieId",
             b"title", b"genres", b"(no genres listed)"],
    "model_file": [b"CFNETMDL", b"\x01\x00\x00\x00", b"\x02\x00\x00\x00", b"\xff\xff\xff\xff\xff\xff\xff\xff",
                   b"\x00\x00\x80\x7f", b"\x00\x00\xc0\x7f", b"model", b"AutoencoderCF", b"NeuralCF", b"Ease",
                   b"MultVAE", b"BiasBaseline", b"MostPopular", b"AutoencoderEnsemble", b"seen.counts", b"seen.items",
                   b"user_ids", b"item_ids", b"user_ids_names", b"n_users", b"n_items", b"fallback", b"counts", b"B",
                   b"kept_items", b"all", b"with_optimizer", b"unit_seen", b"members", b"weights"],
}


def dicts():
    DICTS["cli_args"] = cli_words()
    for name, words in DICTS.items():
        with open(os.path.join(HERE, "dict", name + ".dict"), "w") as f:
            for w in words:
                f.write('"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02x" % c for c in w) + '"\n')


if __name__ == "__main__":
    delimited()
    movielens()
    interactions()
    items()
    heldout()
    cli_args()
    dicts()
