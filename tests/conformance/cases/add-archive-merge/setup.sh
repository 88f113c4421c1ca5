mkdir -p src/sub && echo new > src/replace.txt && echo added > src/sub/new.txt && ln src/replace.txt src/hard
chmod 0750 src/sub && chown -R 1234:4321 src/sub
tar --sort=name --mtime=@1000000000 --numeric-owner -cf overlay.tar -C src .
gzip -n -c overlay.tar > overlay.tar.gz
rm -rf src
