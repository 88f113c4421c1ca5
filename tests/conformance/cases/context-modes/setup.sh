echo x > private && chmod 0600 private
echo y > setuid && chmod 4755 setuid
mkdir -p restricted && echo z > restricted/z && chmod 0700 restricted
echo o > owned && chown 1234:4321 owned
mkdir empty
echo s > 'with space.txt'
