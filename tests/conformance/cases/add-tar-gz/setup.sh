mkdir -p src/inner && echo one > src/one.txt && echo two > src/inner/two.txt
ln -s one.txt src/link && chmod 0700 src/inner && chown 1234:4321 src/one.txt
tar --sort=name --mtime=@1000000000 --numeric-owner -cf plain.tar -C src .
gzip -n -c plain.tar > archive.tar.gz
rm -rf src
