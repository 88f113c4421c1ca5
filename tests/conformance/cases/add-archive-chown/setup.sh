mkdir -p src/d && echo x > src/d/x && chown -R 1234:4321 src
tar --sort=name --mtime=@1000000000 --numeric-owner -czf a.tar.gz -C src .
rm -rf src
