mkdir -p src/d && echo bz > src/d/file.txt && echo top > src/top.txt
tar --sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -cf a.tar -C src .
bzip2 -c a.tar > a.tar.bz2 && xz -c a.tar > a.tar.xz && rm a.tar
echo plain | gzip -n > a.txt.gz
rm -rf src
